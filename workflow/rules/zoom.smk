# Zoom sequences (papers.md §1.5): a path of keyframe windows, each 2x narrower, swept like the
# overview (tiles are jobs), drawn as a keyframe strip and a video.


rule zoom_path:
    """Centres of the keyframes: the given target, or a level-by-level boundary search."""
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


rule zoom_keyframes:
    """The keyframes side by side with their widths, and the local dimension along the zoom."""
    input:
        lambda w: keyframe_files(w.condition, "npz"),
    output:
        strip=report(
            "results/{condition}/zoom_keyframes.png",
            category="Zoom videos",
            labels={"condition": "{condition}", "figure": "keyframes"},
            caption="../report/zoom_keyframes.rst",
        ),
        dimension=report(
            "results/{condition}/zoom_dimension.png",
            category="Zoom videos",
            labels={"condition": "{condition}", "figure": "dimension along the zoom"},
            caption="../report/zoom_dimension.rst",
        ),
    log:
        "results/logs/{condition}/zoom/keyframes.log",
    conda:
        "../../envs/trainability.yaml"
    params:
        title=lambda w: STUDY[w.condition].title,
    script:
        "../scripts/zoom_keyframes.py"
