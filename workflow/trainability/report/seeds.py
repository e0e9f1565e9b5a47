"""The report's "Seeds" section: seed ensembles, per-pixel seeds, probability maps and the
stability boundary (docs/seeds.md), from the inputs ``table.seeds``, ``table.seeds_members`` and
``figure.seeds`` (`trainability.report.inputs`)."""

from __future__ import annotations

from pathlib import Path

from trainability.analysis.seeds import mean_pm, summary_cells
from trainability.analysis.tables import read_table
from trainability.report.markup import esc, html_table
from trainability.report.media import figure

SECTION_ID = "seeds"
TITLE = "Seeds"


def seeds_section(figures: dict[str, Path], tables: dict[str, Path]) -> str:
    """The section's HTML, or "" when the study has no seed ensemble."""
    if "seeds" not in tables:
        return ""
    rows = read_table(tables["seeds"]).to_dict("records")
    members_frame = read_table(tables["seeds_members"]) if "seeds_members" in tables else None
    members = [] if members_frame is None else members_frame.to_dict("records")
    table = [
        "<table><thead><tr><th>ensemble</th><th>seeds</th><th>D, trainability</th>"
        "<th>converged fraction</th><th>D, stability</th><th>stable fraction</th>"
        "<th>0.1–0.9 band (decades)</th></tr></thead><tbody>",
    ]
    for r in rows:
        table.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in summary_cells(r)) + "</tr>")
    table.append("</tbody></table>")
    said = "".join(f"<li>{esc(line)}</li>" for line in answers(rows, members))
    return "".join(
        [
            f'<section id="{SECTION_ID}"><h2>{TITLE}</h2>',
            "<p>Each ensemble is one condition computed once per seed on one window (each seed "
            "its own condition, <code>{ensemble}_seed{k}</code>). Numbers are the mean ± the "
            "standard deviation over seeds [95 % interval of the mean, Student's t]; “not "
            "measured” means the box counting refused every seed (too few pixels for a decade of "
            "box sizes, or no boundary). With per-pixel seeds every pixel draws its own network "
            "(and data) from its own key. The probability map is the fraction of seeds that "
            "converged at each pixel; its 0.1–0.9 band width is the band's area over the length "
            "of its 0.5 level set. The stability label marks a pixel blown up once its loss is "
            "non-finite or above 10⁶ times the first loss. Definitions and the answers in plain "
            "words: docs/seeds.md.</p>",
            *table,
            f"<h3>What the numbers say</h3><ul>{said}</ul>" if said else "",
            figure(
                figures["seeds"],
                "seed ensembles side by side",
                "Each row one ensemble: its seeds side by side (same colours as the heatmaps), the "
                "fraction of seeds that converged (0.5 level set in black), and the first seed's "
                "three phases: trained (blue), not trained but stable (yellow), blown up (red).",
            )
            if "seeds" in figures
            else "",
            "<details><summary>Every seed (tables/seeds_members.csv)</summary>"
            + html_table(members_frame, table_id="seeds-members")
            + "</details>"
            if members
            else "",
            "</section>",
        ]
    )


def answers(rows: list[dict], members: list[dict]) -> list[str]:
    """One plain sentence per ensemble, from its numbers: how much the dimension moves between
    seeds and, with per-pixel seeds, how much of the picture is speckle."""
    out = []
    for r in rows:
        title, n = r["title"], r.get("converged_n") or "0"
        width = r.get("band_width")
        band = (
            f"its probability map's 0.1–0.9 band is {float(width):.2g} decades wide (a pixel is "
            f"{float(r['pixel']):.2g})"
            if width
            else "its probability map has no 0.5 level set"
        )
        if r["seed_mode"] == "per_pixel":
            speckle = [float(m["speckle"]) for m in members if m["ensemble"] == r["ensemble"]]
            worst = max(speckle) if speckle else float("nan")
            out.append(
                f"{title}: with every pixel its own draw, up to {worst:.3f} of the pixels lie in "
                f"small isolated clusters (speckle: 0 for a clean boundary, about 0.35 for "
                f"independent random pixels); its dimension over seeds is "
                f"{mean_pm(r, 'dimension')}, and {band}."
            )
        else:
            out.append(
                f"{title}: over {n} seeds, each shared by every pixel as in the paper, the "
                f"dimension is {mean_pm(r, 'dimension')}, the stability boundary's "
                f"{mean_pm(r, 'stability_dimension')}; {band}."
            )
    return out
