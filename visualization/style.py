"""Colours and labels shared by the charts, the network and the tables (one place, so they agree)."""

from __future__ import annotations

import struct
import threading
import zlib

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

from accounting.contracts import INSTRUMENT_LABELS, Kind

# matplotlib is not thread-safe; every session renders its figures under this lock (renders take milliseconds).
RENDER_LOCK = threading.RLock()

KIND_COLORS = {
    Kind.BOND: "#1f77b4",
    Kind.BANK_LOAN: "#17becf",
    Kind.SPV_FACILITY: "#9467bd",
    Kind.GPU_LOAN: "#ff7f0e",
    Kind.COMPUTE: "#2ca02c",
    Kind.EQUITY_STAKE: "#e377c2",
    Kind.BACKSTOP: "#8c564b",
    Kind.FINANCE_LEASE: "#7f7f7f",
    Kind.WARRANT: "#bcbd22",
    Kind.RISK_TRANSFER: "#393b79",
    Kind.EQUITY_SHORT: "#637939",
    Kind.CLAIM: "#d62728",
    Kind.GUARANTEE: "#c49c94",
}

KIND_LABELS = {
    **{k: v for k, v in INSTRUMENT_LABELS.items()},
    Kind.COMPUTE: "compute contracts",
    Kind.EQUITY_STAKE: "equity stakes",
    Kind.BACKSTOP: "capacity backstops",
    Kind.WARRANT: "warrants",
    Kind.RISK_TRANSFER: "risk transfers (SRT)",
    Kind.EQUITY_SHORT: "equity shorts",
    Kind.GUARANTEE: "sponsor guarantees",
}

TYPE_COLORS = {
    "hyperscaler": "#4c72b0",
    "chip vendor": "#55a868",
    "leveraged builder": "#dd8452",
    "neocloud": "#8172b3",
    "AI lab": "#b47cc7",
    "private-credit fund": "#937860",
    "bank": "#64b5cd",
    "project company": "#e1a276",
    "world": "#c8c8c8",
}
DEFAULT_COLOR = "#d62728"  # defaulted firms (and only they) are red
LOOP_COLOR = "#f2b705"  # circular loops are highlighted in gold

TWIN_LABEL = "without circular financing (twin)"

_WORDS = {
    "ai": "AI",
    "gpu": "GPU",
    "gpus": "GPUs",
    "gw": "GW",
    "usd": "USD",
    "ig": "IG",
    "hy": "HY",
    "ltv": "LTV",
    "srt": "SRT",
    "spv": "SPV",
    "spvs": "SPVs",
    "rwa": "RWA",
    "bs": "balance sheet",
    "openai": "OpenAI",
    "nvidia": "Nvidia",
    "amd": "AMD",
    "xai": "xAI",
    "q": "quarter",
}


def humanize(name: str) -> str:
    """``"ai_growth_initial_annual"`` -> ``"AI growth initial annual"`` (the leaf of a dotted name)."""
    words = [_WORDS.get(w, w) for w in name.rsplit(".", 1)[-1].split("_") if w]
    if not words:
        return name
    first = words[0]
    if first == first.lower():
        first = first[:1].upper() + first[1:]
    return " ".join([first, *words[1:]])


def fmt(value: float, digits: int = 4) -> str:
    """Compact number: 4 significant digits, no exponent for ordinary sizes."""
    if value is None:
        return "–"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if v != v:  # nan
        return "–"
    if abs(v) >= 1e6 or (0 < abs(v) < 1e-3):
        return f"{v:.3g}"
    return f"{v:.{digits}g}"


def usd_bn(value: float) -> str:
    """USD bn amount for a label: ``"1.16tn"``, ``"57.6bn"``, ``"0.03bn"``."""
    v = float(value)
    if abs(v) >= 1000:
        return f"{v / 1000:.3g}tn"
    if abs(v) >= 1:
        return f"{v:.3g}bn"
    return f"{v:.2f}bn"


def png_rgb(pixels: np.ndarray) -> bytes:
    """Encode an (h, w, 3|4) uint8 array as PNG: no row filters and zlib level 1, about twice as fast as PIL's
    encoder on chart images (mostly flat colour) at about the same size."""
    h, w, channels = pixels.shape
    raw = np.empty((h, w * channels + 1), dtype=np.uint8)
    raw[:, 0] = 0  # filter type "none" for every row
    raw[:, 1:] = pixels.reshape(h, -1)
    data = zlib.compress(raw.tobytes(), 1)
    color_type = 2 if channels == 3 else 6

    def chunk(tag: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))

    header = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def canvas_png(canvas: FigureCanvasAgg) -> bytes:
    """The canvas' current pixels as PNG (RGBA as Agg keeps them: no channel copy)."""
    return png_rgb(np.asarray(canvas.buffer_rgba()))


# one colour per circular loop (the network's edges, the loss flows); contracts in no loop are grey
LOOP_COLORS = {
    0: "#b0b0b0",
    1: "#76b900",  # Nvidia-OpenAI
    2: "#c74634",  # Oracle build-out
    3: "#ed1c24",  # AMD warrants
    4: "#1f3a93",  # CoreWeave backstop
    5: "#00a4ef",  # Microsoft-OpenAI
    6: "#ff9900",  # Amazon-Anthropic
    7: "#6b4c9a",  # Nvidia-xAI
    8: "#0668e1",  # Meta SPV
    9: "#f2b705",  # reflexivity
    10: "#8c564b",  # risk transfer
}

LOOP_NAMES = {
    1: "Nvidia–OpenAI",
    2: "Oracle build-out",
    3: "AMD warrants",
    4: "CoreWeave backstop",
    5: "Microsoft–OpenAI",
    6: "Amazon–Anthropic",
    7: "Nvidia–xAI",
    8: "Meta SPV",
    9: "reflexivity",
    10: "risk transfer",
}
