"""Pictures and videos inlined into the page as ``data:`` URIs, so the report is one file.

Each zoom video is offered twice: a VP9 WebM (transcoded here with imageio-ffmpeg's bundled
ffmpeg, when it has libvpx-vp9) first, and the workflow's H.264 MP4 second. H.264 is
patent-encumbered, so Chromium builds without the proprietary codecs (Playwright's own Chromium,
some distribution packages) and Firefox without a system H.264 decoder cannot play it, while
every current browser decodes VP9; browsers without WebM (old Safari) fall back to the MP4.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import tempfile
from pathlib import Path

from trainability.report.markup import esc


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def figure(path: Path, alt: str, caption: str = "") -> str:
    """A ``<figure>`` with the PNG at ``path`` inlined (empty string if the file is missing)."""
    if not path.is_file():
        return ""
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    src = data_uri(path.read_bytes(), "image/png")
    return f'<figure><img src="{src}" alt="{esc(alt)}">{cap}</figure>'


def _ffmpeg() -> str | None:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # noqa: BLE001  (no ffmpeg: the MP4 alone is embedded)
        return None


def webm_from_mp4(mp4: Path, crf: int = 32) -> bytes | None:
    """The video at ``mp4`` transcoded to VP9 WebM, or None if ffmpeg or libvpx-vp9 is missing.

    Written to a temporary file (not a pipe) so the WebM has its duration and cues.
    """
    exe = _ffmpeg()
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "video.webm"
        cmd = [
            exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(mp4),
            "-an", "-c:v", "libvpx-vp9", "-b:v", "0", "-crf", str(crf), "-row-mt", "1",
            "-deadline", "good", "-cpu-used", "4", "-pix_fmt", "yuv420p", str(out),
        ]  # fmt: skip
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as err:
            detail = getattr(err, "stderr", b"") or b""
            print(f"report: no WebM for {mp4}: {err} {detail.decode()[-300:]}", file=sys.stderr)
            return None
        return out.read_bytes() if out.is_file() and out.stat().st_size else None


def video(mp4: Path, label: str, *, webm: bool = True) -> str:
    """A ``<video>`` playing the zoom: VP9 WebM source first (if made), the MP4 second."""
    if not mp4.is_file():
        return ""
    sources = []
    if webm and (data := webm_from_mp4(mp4)) is not None:
        sources.append(f'<source src="{data_uri(data, "video/webm")}" type="video/webm">')
    sources.append(f'<source src="{data_uri(mp4.read_bytes(), "video/mp4")}" type="video/mp4">')
    return (
        f'<figure><video controls loop muted autoplay playsinline aria-label="{esc(label)}">'
        + "".join(sources)
        + "Your browser cannot play this video.</video>"
        + f"<figcaption>{esc(label)}</figcaption></figure>"
    )
