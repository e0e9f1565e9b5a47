# Zoom sequences (docs/methods.md, zooms): a path of keyframe windows, each 2x narrower, swept like the
# overview (tiles are jobs), drawn as a keyframe strip and a video.


rule zoom_path:
    """Keyframe windows: concentric on the panel and then down the boundary, around a given
    centre, or a level-by-level search for clean boundary."""
    output:
        "results/{condition}/zoom/path.json",
    log:
        "results/logs/{condition}/zoom/path.log",
    benchmark:
        "results/benchmarks/{condition}/zoom/path.tsv"
    conda:
        "../../envs/trainability.yaml"
    params:
        condition=lambda w: STUDY[w.condition].condition.to_dict(),
        window=lambda w: STUDY[w.condition].window.to_dict(),
        panel=lambda w: panel_window(w.condition),
        zoom=lambda w: STUDY[w.condition].zoom.to_dict(),
        engine=config["engine"],
    script:
        "../scripts/zoom_path.py"


rule zoom_video:
    """Exponential zoom through the keyframes, colours blended between their rank stretches."""
    input:
        lambda w: keyframe_files(w.condition, "npz"),
    output:
        mp4=report(
            "results/{condition}/zoom.mp4",
            category="Zoom videos",
            labels={"condition": "{condition}", "figure": "zoom video"},
            caption="../report/zoom.rst",
        ),
        gif="results/{condition}/zoom.gif",
    log:
        "results/logs/{condition}/zoom/video.log",
    benchmark:
        "results/benchmarks/{condition}/zoom/video.tsv"
    conda:
        "../../envs/trainability.yaml"
    params:
        zoom=lambda w: STUDY[w.condition].zoom.to_dict(),
    script:
        "../scripts/zoom_video.py"


# The keyframes drawn one by one and side by side, and the dimension along the zoom: one rule
# per zooming condition, since its keyframe count fixes the outputs.
for _name in ZOOMING:

    rule:
        name:
            f"zoom_keyframes_{_name}"
        input:
            keyframe_files(_name, "npz"),
        output:
            strip=report(
                f"results/{_name}/zoom_keyframes.png",
                category="Zoom videos",
                labels={"condition": _name, "figure": "keyframes"},
                caption="../report/zoom_keyframes.rst",
            ),
            dimension=report(
                f"results/{_name}/zoom_dimension.png",
                category="Zoom videos",
                labels={"condition": _name, "figure": "dimension along the zoom"},
                caption="../report/zoom_dimension.rst",
            ),
            keyframes=keyframe_files(_name, "png"),
        log:
            f"results/logs/{_name}/zoom/keyframes.log",
        conda:
            "../../envs/trainability.yaml"
        params:
            title=STUDY[_name].title,
        script:
            "../scripts/zoom_keyframes.py"
