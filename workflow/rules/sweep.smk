# Training sweeps: one job per tile of each grid, then the tiles merged into the grid.


rule sweep_tile:
    """Train one network per pixel of tile (i, j) of a condition's grid (docs/methods.md)."""
    input:
        path=lambda w: (
            []
            if keyframe_index(w.grid) is None
            else rules.zoom_path.output[0].format(condition=w.condition)
        ),
    output:
        "results/{condition}/tiles/{grid}/{i}_{j}.npz",
    log:
        "results/logs/{condition}/{grid}/sweep_{i}_{j}.log",
    benchmark:
        "results/benchmarks/{condition}/{grid}/sweep_{i}_{j}.tsv"
    conda:
        "../../envs/trainability.yaml"
    threads: 1
    params:
        condition=lambda w: STUDY[w.condition].condition.to_dict(),
        window=lambda w: grid_window(w.condition, w.grid),
        keyframe=lambda w: keyframe_index(w.grid),
        resolution=lambda w: grid_resolution(w.condition, w.grid),
        tiles=lambda w: grid_tiles(w.condition, w.grid),
        engine=config["engine"],
        dtype=lambda w: grid_dtype(w.condition, w.grid),
        refine=lambda w: grid_refine(w.condition, w.grid),
    script:
        "../scripts/sweep_tile.py"


rule merge_tiles:
    """Assemble a grid from its tiles (bit-identical to computing it whole)."""
    input:
        lambda w: grid_tile_files(w.condition, w.grid),
    output:
        "results/{condition}/{grid}.npz",
    log:
        "results/logs/{condition}/{grid}/merge.log",
    conda:
        "../../envs/trainability.yaml"
    script:
        "../scripts/merge_tiles.py"
