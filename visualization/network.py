"""The financing network: firms as nodes, contracts as edges, drawn with matplotlib on a cached networkx layout.

* nodes: firms (and the parts of the outside world that hold contracts), area ~ value (market value for listed
  firms, book equity for funds and banks), colour by type; a firm that has defaulted is red, one in default now
  or liquidated is crossed out;
* edges: contracts aggregated per (creditor, debtor, kind), drawn from creditor to debtor (who is owed -> who
  owes), width ~ exposure, colour = contract type; contracts in a circular loop (L1-L10) have a gold halo and
  their loop ids; defaulted or terminated contracts are dashed.

The layout is computed once per set of parties (``functools.lru_cache``) and every frame is blitted (see
:mod:`visualization.charts`), so redrawing costs a few milliseconds.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from accounting.contracts import DEBT_KIND_CODES, HAS_NOTIONAL, Kind, Status
from visualization.style import (
    DEFAULT_COLOR,
    KIND_COLORS,
    KIND_LABELS,
    LOOP_COLOR,
    RENDER_LOCK,
    TYPE_COLORS,
    png_rgb,
)

VALUE_KINDS = (Kind.EQUITY_STAKE, Kind.WARRANT, Kind.RISK_TRANSFER, Kind.EQUITY_SHORT)
# the inner ring: the firms the circular loops run through
CORE_TYPES = ("chip vendor", "AI lab", "leveraged builder", "neocloud")


# -- data ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Edge:
    creditor: int
    debtor: int
    kind: Kind
    exposure: float  # USD bn: principal (debt, and remaining notional of compute/backstops) or value
    broken: bool  # defaulted or terminated
    loops: tuple[int, ...]  # circular loops (1-10) it carries
    contracts: int


def contract_exposure(book) -> np.ndarray:
    """Exposure of each contract to its creditor: ``value`` for stakes/warrants/SRT/shorts, the remaining
    ``notional`` of compute contracts and backstops, ``principal`` of debt."""
    kinds = book.view("kind")
    use_value = np.isin(kinds, [int(k) for k in VALUE_KINDS])
    return np.where(
        use_value,
        np.abs(book.view("value")),
        np.where(HAS_NOTIONAL[kinds], book.view("notional"), book.view("principal")),
    )


SYNTHETIC_SHOWN = 12  # population mode: up to this many synthetic firms are drawn one by one, more by type


def display_parties(model) -> np.ndarray:
    """Party -> node id drawn. Calibrated firms and the world are themselves; when population mode adds more
    than SYNTHETIC_SHOWN synthetic firms, those of one type are drawn as one node (ids below 0)."""
    ids = np.arange(model.ledger.n_parties)
    synthetic = [f for f in model.firms if getattr(f, "synthetic", False)]
    if len(synthetic) > SYNTHETIC_SHOWN:
        types = sorted({f.type_label for f in synthetic})
        for f in synthetic:
            ids[f.party] = -1 - types.index(f.type_label)
    return ids


def aggregate_edges(model, parties: np.ndarray | None = None) -> list[Edge]:
    """Contracts aggregated per (creditor, debtor, kind, broken) of the nodes drawn; matured contracts and
    contracts inside one grouped node are left out."""
    c = model.ledger.contracts
    status = c.view("status")
    keep = status != Status.MATURED
    if not keep.any():
        return []
    parties = display_parties(model) if parties is None else parties
    rows = np.flatnonzero(keep)
    cred, debt = parties[c.view("creditor")[rows]], parties[c.view("debtor")[rows]]
    inside = cred == debt
    rows, cred, debt = rows[~inside], cred[~inside], debt[~inside]
    if rows.size == 0:
        return []
    exposure = contract_exposure(c)[rows]
    kind = c.view("kind")[rows].astype(np.int64)
    broken = status[rows] != Status.ACTIVE
    loop = c.view("loop")[rows].astype(np.int64)
    table = np.column_stack([cred, debt, kind, broken.astype(np.int64)])
    keys, index = np.unique(table, axis=0, return_inverse=True)
    index = index.ravel()
    totals = np.bincount(index, exposure, len(keys))
    counts = np.bincount(index, minlength=len(keys))
    loops: dict[int, set[int]] = {}
    for i in np.flatnonzero(loop > 0):
        loops.setdefault(int(index[i]), set()).add(int(loop[i]))
    return [
        Edge(
            int(a),
            int(b),
            Kind(int(k)),
            float(totals[j]),
            bool(br),
            tuple(sorted(loops.get(j, ()))),
            int(counts[j]),
        )
        for j, (a, b, k, br) in enumerate(keys)
    ]


@dataclass(frozen=True)
class Node:
    party: int  # a ledger party, or (below 0) a group of synthetic firms
    name: str
    type_label: str
    value: float
    defaulted: bool  # has defaulted at some point (red)
    crossed: bool  # in default now, or liquidated


def nodes(model, edges: list[Edge], parties: np.ndarray | None = None) -> list[Node]:
    """Every firm (synthetic ones grouped by type when many), plus the outside-world parties that hold or owe
    a contract shown."""
    parties = display_parties(model) if parties is None else parties
    ledger = model.ledger
    out: list[Node] = []
    groups: dict[int, list] = {}
    for f in model.firms:
        value = f.valuation if f.listed and f.valuation > 0 else max(f.equity, 0.0)
        defaulted = bool(ledger.defaulted[f.party] or f.in_default or f.liquidated)
        crossed = bool(f.in_default or f.liquidated)
        node_id = int(parties[f.party])
        if node_id < 0:
            g = groups.setdefault(node_id, [f.type_label, 0, 0.0, 0, 0])
            g[1] += 1
            g[2] += float(value)
            g[3] += defaulted
            g[4] += crossed
            continue
        out.append(Node(f.party, f.name, f.type_label, float(value), defaulted, crossed))
    for node_id, (type_label, n, value, n_defaulted, n_crossed) in sorted(groups.items(), reverse=True):
        name = f"{n} synthetic {type_label}s" + (f" ({n_defaulted} defaulted)" if n_defaulted else "")
        out.append(Node(node_id, name, type_label, value, n_defaulted > 0, n_crossed == n))
    shown = {n.party for n in out}
    world = sorted({p for e in edges for p in (e.creditor, e.debtor)} - shown)
    out += [Node(p, ledger.names[p], "world", 0.0, False, False) for p in world if p >= 0]
    return out


@functools.lru_cache(maxsize=32)
def layout(parties: tuple[tuple[int, str], ...]) -> dict[int, tuple[float, float]]:
    """networkx shell layout: the loop core (chips, labs, builders, neoclouds) inside, hyperscalers, lenders
    and the outside world around it, each ring ordered by type so that types sit together."""
    order = {t: i for i, t in enumerate((*CORE_TYPES, "hyperscaler", "private-credit fund", "bank", "world"))}
    ranked = sorted(parties, key=lambda p: (order.get(p[1], len(order)), p[0]))
    inner = [p for p, t in ranked if t in CORE_TYPES]
    outer = [p for p, t in ranked if t not in CORE_TYPES]
    graph = nx.DiGraph()
    graph.add_nodes_from(p for p, _ in parties)
    shells = [s for s in (inner, outer) if s]
    if len(shells) == 1:
        pos = nx.circular_layout(graph)
    else:
        pos = nx.shell_layout(graph, nlist=shells, rotate=math.pi / max(len(outer), 1))
        for p in inner:  # shell_layout puts the inner ring at half the outer radius; open it up a little
            pos[p] = pos[p] * 1.2
    return {p: (float(xy[0]), float(xy[1])) for p, xy in pos.items()}


# -- drawing ------------------------------------------------------------------------------------------------------
def _curve(p0: np.ndarray, p1: np.ndarray, bend: float, n: int = 18) -> np.ndarray:
    """Quadratic Bezier from p0 to p1 bending to the left by ``bend`` x the distance."""
    d = p1 - p0
    normal = np.array([-d[1], d[0]])
    ctrl = (p0 + p1) / 2 + bend * normal
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * ctrl + t**2 * p1


def _trim(curve: np.ndarray, r0: float, r1: float) -> np.ndarray:
    """Drop the ends of a curve that lie inside the two nodes' discs."""
    d0 = np.hypot(*(curve - curve[0]).T)
    d1 = np.hypot(*(curve - curve[-1]).T)
    keep = (d0 >= r0) & (d1 >= r1)
    return curve[keep] if keep.sum() >= 2 else curve[[len(curve) // 2 - 1, len(curve) // 2]]


def _arrowhead(curve: np.ndarray, size: float) -> np.ndarray:
    tip, prev = curve[-1], curve[-2]
    d = tip - prev
    norm = math.hypot(*d) or 1.0
    d = d / norm
    n = np.array([-d[1], d[0]])
    base = tip - size * d
    return np.array([tip, base + 0.45 * size * n, base - 0.45 * size * n])


def edge_width(exposure: float) -> float:
    """Line width (points) for an exposure in USD bn: ~sqrt, so a 100bn bond is 4x a 6bn loan, capped."""
    return float(min(0.6 + 0.55 * math.sqrt(max(exposure, 0.0)), 9.0))


# rendered labels (pixels), shared by every view: the same names are drawn in every session and quarter
_SPRITES: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


class NetworkView:
    """The network figure of one run; ``render(model, selected)`` returns a PNG."""

    LIMIT = 1.17  # half the height of the drawing in layout units (the outer ring has radius 1)

    def __init__(self, width_in: float = 7.8, height_in: float = 5.7, dpi: int = 100):
        self.fig = Figure(figsize=(width_in, height_in), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        rect = (0.0, 0.0, 0.76, 0.9)
        self.ax = ax = self.fig.add_axes(rect)
        aspect = (rect[2] * width_in) / (rect[3] * height_in)  # equal scales on x and y
        ax.set_xlim(-self.LIMIT * aspect, self.LIMIT * aspect)
        ax.set_ylim(-self.LIMIT * 1.06, self.LIMIT * 0.94)
        ax.axis("off")
        self.fig.text(0.01, 0.985, "Financing network", fontsize=11, fontweight="bold", va="top")
        self.fig.text(
            0.01,
            0.948,
            "arrows: creditor → debtor (who is owed → who owes) · width ~ exposure · node area ~ value",
            fontsize=7,
            va="top",
            color="#444444",
        )
        handles = [Line2D([], [], color=KIND_COLORS[k], lw=3) for k in Kind]
        labels = [KIND_LABELS[k] for k in Kind]
        handles += [
            Line2D([], [], color=LOOP_COLOR, lw=6, alpha=0.5),
            Line2D(
                [], [], marker="o", ls="", markerfacecolor=DEFAULT_COLOR, markeredgecolor="k", markersize=8
            ),
            Line2D([], [], marker="x", ls="", color="k", markersize=8, mew=2),
        ]
        labels += ["circular loop (L1–L10)", "has defaulted", "in default / liquidated"]
        self.fig.legend(
            handles,
            labels,
            loc="center left",
            bbox_to_anchor=(0.745, 0.45),
            fontsize=7,
            ncol=1,
            frameon=False,
            handlelength=1.8,
            title="contracts",
            title_fontsize=8,
        )
        self._background = None
        self.value_ref: float | None = None
        self._made = False
        self.label_offset: dict[int, float] | None = None
        self.full_draws = 0

    def reset(self) -> NetworkView:
        """Ready for a new run: node sizes and label places are set again from its first quarter. The
        background (title and legend) stays valid."""
        self.value_ref = None
        self.label_offset = None
        return self

    def _node_size(self, value: float, world: bool) -> float:
        if world:
            return 150.0
        ref = self.value_ref or 1.0
        return float(np.clip(90.0 + 1900.0 * math.sqrt(max(value, 0.0) / ref), 90.0, 2600.0))

    def _radius(self, size_pt2: float) -> float:
        """Marker radius in data units (scatter sizes are in points²)."""
        (x0, _), (x1, _) = self.ax.transData.transform([(0.0, 0.0), (1.0, 0.0)])
        px_per_unit = abs(x1 - x0) or 1.0
        return math.sqrt(size_pt2) / 2 * self.fig.dpi / 72.0 / px_per_unit

    def _artists(self):
        """The data artists, made once and updated every frame (creating matplotlib artists is what is slow)."""
        if self._made:
            return
        ax = self.ax
        kw = {"animated": True}
        self.halo = ax.add_collection(
            LineCollection([], colors=LOOP_COLOR, alpha=0.45, capstyle="round", **kw)
        )
        self.solid = ax.add_collection(LineCollection([], linestyles="-", alpha=0.85, **kw))
        self.dashed = ax.add_collection(LineCollection([], linestyles="--", alpha=0.85, **kw))
        self.heads = ax.add_collection(PolyCollection([], edgecolors="none", alpha=0.9, **kw))
        self.markers = ax.scatter([], [], zorder=3, **kw)
        self.crosses = ax.scatter([], [], marker="x", c="k", linewidths=2.5, zorder=4, **kw)
        self._made = True

    def _sprite(
        self,
        text: str,
        *,
        size: float = 6.8,
        bold: bool = False,
        color: str = "#111111",
        face: str = "white",
        alpha: float = 0.8,
    ) -> tuple[np.ndarray, np.ndarray]:
        """A text label rendered once to pixels (RGB and alpha in 0..1), cached: drawing text is the slow part of
        a matplotlib frame, pasting pixels is not."""
        key = (text, size, bold, color, face, alpha, self.fig.dpi)
        hit = _SPRITES.get(key)
        if hit is not None:
            return hit
        fig = Figure(figsize=(4.0, 1.0), dpi=self.fig.dpi)
        fig.patch.set_alpha(0.0)
        canvas = FigureCanvasAgg(fig)
        fig.text(
            0.5,
            0.5,
            text,
            fontsize=size,
            fontweight="bold" if bold else "normal",
            color=color,
            ha="center",
            va="center",
            bbox={"boxstyle": "round,pad=0.18", "facecolor": face, "edgecolor": "none", "alpha": alpha},
        )
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba()).astype(np.float32) / 255.0
        rows = np.flatnonzero(rgba[:, :, 3].max(axis=1) > 0)
        cols = np.flatnonzero(rgba[:, :, 3].max(axis=0) > 0)
        if rows.size == 0:
            crop = np.zeros((1, 1, 4), dtype=np.float32)
        else:
            crop = rgba[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        alpha_ch = crop[:, :, 3:4]
        # un-premultiply is not needed: Agg's buffer is straight (non-premultiplied) RGBA
        sprite = (crop[:, :, :3], alpha_ch)
        if len(_SPRITES) > 4000:  # bounded: quarter labels and loop sets are few, but keep it so
            _SPRITES.clear()
        _SPRITES[key] = sprite
        return sprite

    def _paste(self, pixels: np.ndarray, sprite, x: float, y: float, anchor: str = "center") -> None:
        """Alpha-blend a sprite into an (h, w, 4) uint8 image at display point (x, y)."""
        rgb, a = sprite
        h, w = a.shape[:2]
        height, width = pixels.shape[:2]
        top = math.floor(height - y - (h / 2 if anchor == "center" else 0) + 0.5)
        left = math.floor(x - w / 2 + 0.5)
        r0, c0 = max(top, 0), max(left, 0)
        r1, c1 = min(top + h, height), min(left + w, width)
        if r1 <= r0 or c1 <= c0:
            return
        src_rgb = rgb[r0 - top : r1 - top, c0 - left : c1 - left]
        src_a = a[r0 - top : r1 - top, c0 - left : c1 - left]
        region = pixels[r0:r1, c0:c1, :3]
        blended = src_rgb * src_a + region.astype(np.float32) * ((1.0 - src_a) / 255.0)
        region[:] = (blended * 255.0 + 0.5).astype(np.uint8)

    def render(self, model, selected: str | None = None, label: str = "") -> bytes:
        with RENDER_LOCK:
            parties = display_parties(model)
            edges = aggregate_edges(model, parties)
            node_list = nodes(model, edges, parties)
            pos = layout(tuple((n.party, n.type_label) for n in node_list))
            if self.value_ref is None:
                self.value_ref = (
                    max((n.value for n in node_list if n.type_label != "world"), default=1.0) or 1.0
                )
            if self._background is None:
                self.canvas.draw()
                self._background = self.canvas.copy_from_bbox(self.fig.bbox)
                self.full_draws += 1
            else:
                self.canvas.restore_region(self._background)
            self._artists()
            drawn, sprites = self._update(edges, node_list, pos, selected)
            for artist in drawn:
                self.ax.draw_artist(artist)
            pixels = np.array(self.canvas.buffer_rgba())  # uint8 RGBA copy; labels are pasted into it
            to_px = self.ax.transData.transform
            for sprite, xy, anchor in sprites:
                px, py = to_px(xy)
                self._paste(pixels, sprite, px, py, anchor)
            if label:
                w, h = self.canvas.get_width_height()
                sprite = self._sprite(label, size=11, bold=True, face="white", alpha=0.0)
                self._paste(pixels, sprite, w - sprite[1].shape[1] / 2 - 8, h - sprite[1].shape[0] / 2 - 6)
            return png_rgb(pixels)

    def _update(self, edges: list[Edge], node_list: list[Node], pos, selected: str | None) -> list:
        sizes = {n.party: self._node_size(n.value, n.type_label == "world") for n in node_list}
        radius = {p: self._radius(s) for p, s in sizes.items()}
        by_pair: dict[tuple[int, int], int] = {}  # parallel edges of one pair fan out
        lines: dict[bool, tuple[list, list, list]] = {False: ([], [], []), True: ([], [], [])}
        heads, head_colors, halos, halo_widths = [], [], [], []
        loop_labels: dict[tuple[int, ...], np.ndarray] = {}
        for e in sorted(edges, key=lambda e: (e.broken, -e.exposure)):
            if e.creditor not in pos or e.debtor not in pos or e.creditor == e.debtor:
                continue
            pair = (min(e.creditor, e.debtor), max(e.creditor, e.debtor))
            rank = by_pair.get(pair, 0)
            by_pair[pair] = rank + 1
            p0, p1 = np.array(pos[e.creditor]), np.array(pos[e.debtor])
            curve = _trim(_curve(p0, p1, 0.08 + 0.06 * rank), radius[e.creditor], radius[e.debtor] + 0.01)
            width = 1.0 if e.broken else edge_width(e.exposure)
            segs, cols, wids = lines[e.broken]
            segs.append(curve)
            cols.append(KIND_COLORS[e.kind])
            wids.append(width)
            heads.append(_arrowhead(curve, 0.035 + 0.004 * width))
            head_colors.append(KIND_COLORS[e.kind])
            if e.loops and not e.broken:
                halos.append(curve)
                halo_widths.append(width + 6.0)
                loop_labels.setdefault(e.loops, curve[len(curve) // 2])
        self.halo.set_segments(halos)
        self.halo.set_linewidths(halo_widths or [1.0])
        for collection, broken in ((self.solid, False), (self.dashed, True)):
            segs, cols, wids = lines[broken]
            collection.set_segments(segs)
            collection.set_colors(cols or ["k"])
            collection.set_linewidths(wids or [1.0])
        self.heads.set_verts(heads)
        self.heads.set_facecolors(head_colors or ["k"])
        sprites = [
            (
                self._sprite(
                    ",".join(f"L{n}" for n in loops), size=6.5, bold=True, color="#5a4100", face="#fff4cc"
                ),
                (float(xy[0]), float(xy[1])),
                "center",
            )
            for loops, xy in loop_labels.items()
        ]
        xy = np.array([pos[n.party] for n in node_list])
        self.markers.set_offsets(xy)
        self.markers.set_sizes([sizes[n.party] for n in node_list])
        self.markers.set_facecolors(
            [DEFAULT_COLOR if n.defaulted else TYPE_COLORS.get(n.type_label, "#aaaaaa") for n in node_list]
        )
        self.markers.set_edgecolors(["#111111" if n.name == selected else "white" for n in node_list])
        self.markers.set_linewidths([3.0 if n.name == selected else 1.0 for n in node_list])
        crossed = [i for i, n in enumerate(node_list) if n.crossed]
        self.crosses.set_offsets(xy[crossed] if crossed else np.empty((0, 2)))
        self.crosses.set_sizes([sizes[node_list[i].party] * 0.6 for i in crossed] or [1.0])
        if self.label_offset is None:  # fixed label positions: under each node as big as it started
            self.label_offset = {n.party: radius[n.party] * 1.1 + 0.02 for n in node_list}
        for n, (x, y) in zip(node_list, xy, strict=True):
            off = self.label_offset.get(n.party, radius[n.party] + 0.02)
            world = n.type_label == "world"
            sprite = self._sprite(
                n.name,
                size=7.0 if world else 8.0,
                bold=n.name == selected,
                color="#555555" if world else "#111111",
                alpha=0.7,
            )
            sprites.append((sprite, (float(x), float(y) - off), "top"))
        drawn = [self.halo, self.solid, self.dashed, self.heads, self.markers, self.crosses]
        return drawn, sprites


def edge_table(model, party: int) -> list[dict]:
    """The contracts of one party, aggregated like the network's edges (largest first), for its panel."""
    names = model.ledger.names
    rows = []
    for e in aggregate_edges(model, np.arange(model.ledger.n_parties)):  # real counterparties, none grouped
        if party not in (e.creditor, e.debtor):
            continue
        owed = e.creditor == party
        rows.append(
            {
                "side": "owed by" if owed else "owes",
                "counterparty": names[e.debtor if owed else e.creditor],
                "contract": KIND_LABELS[e.kind],
                "exposure": e.exposure,
                "status": "defaulted/terminated" if e.broken else "active",
                "loops": ",".join(f"L{n}" for n in e.loops),
                "debt": int(e.kind) in DEBT_KIND_CODES,
            }
        )
    rows.sort(key=lambda r: (r["status"] != "active", -r["exposure"]))
    return rows
