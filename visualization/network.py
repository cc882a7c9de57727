"""The financing network: firms as nodes, contracts as edges, drawn with matplotlib on a cached networkx layout.

* nodes: firms (and the parts of the outside world that hold contracts), area ~ DebtRank (the share of the
  agents' equity lost if the firm defaults, economy/systemic.py), colour by type; a firm that has defaulted is
  red, one in default now or liquidated is crossed out;
* edges: contracts aggregated per (creditor, debtor, kind), drawn from creditor to debtor (who is owed -> who
  owes), width ~ exposure, colour = the circular loop (L1-L10) of the contracts (grey: none), with the loop ids;
  defaulted or terminated contracts are dashed. The legend names every colour and line style.
* labels are placed so that they overlap neither each other nor the nodes where there is room; the page lays
  one hover/click spot over each node (``hotspots``): its exposures and DebtRank, and a click selects the firm.

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
    KIND_LABELS,
    LOOP_COLORS,
    LOOP_NAMES,
    RENDER_LOCK,
    TYPE_COLORS,
    png_rgb,
    usd_bn,
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
    debtrank: float = 0.0  # the share of the agents' equity lost if it defaults (0 for the outside world)


def nodes(model, edges: list[Edge], parties: np.ndarray | None = None) -> list[Node]:
    """Every firm (synthetic ones grouped by type when many), plus the outside-world parties that hold or owe
    a contract shown."""
    parties = display_parties(model) if parties is None else parties
    ledger = model.ledger
    out: list[Node] = []
    groups: dict[int, list] = {}
    ranks = getattr(model, "debtrank_cache", None)
    for f in model.firms:
        value = f.valuation if f.listed and f.valuation > 0 else max(f.equity, 0.0)
        rank = float(ranks[f.party]) if ranks is not None and f.party < len(ranks) else 0.0
        rank = rank if math.isfinite(rank) else 0.0
        defaulted = bool(ledger.defaulted[f.party] or f.in_default or f.liquidated)
        crossed = bool(f.in_default or f.liquidated)
        node_id = int(parties[f.party])
        if node_id < 0:
            g = groups.setdefault(node_id, [f.type_label, 0, 0.0, 0, 0, 0.0])
            g[1] += 1
            g[2] += float(value)
            g[3] += defaulted
            g[4] += crossed
            g[5] = max(g[5], rank)
            continue
        out.append(Node(f.party, f.name, f.type_label, float(value), defaulted, crossed, rank))
    for node_id, (type_label, n, value, n_defaulted, n_crossed, rank) in sorted(groups.items(), reverse=True):
        name = f"{n} synthetic {type_label}s" + (f" ({n_defaulted} defaulted)" if n_defaulted else "")
        out.append(Node(node_id, name, type_label, value, n_defaulted > 0, n_crossed == n, rank))
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
            "arrows: creditor → debtor (who is owed → who owes) · width ~ exposure · node area ~ DebtRank · "
            "hover a node for its exposures, click it to pick the firm",
            fontsize=7,
            va="top",
            color="#444444",
        )
        handles = [Line2D([], [], color=LOOP_COLORS[k], lw=3) for k in range(1, 11)]
        labels = [f"L{k} {LOOP_NAMES.get(k, '')}".strip() for k in range(1, 11)]
        handles += [
            Line2D([], [], color=LOOP_COLORS[0], lw=3),
            Line2D([], [], color="#555555", lw=2, ls="-"),
            Line2D([], [], color="#555555", lw=1, ls="--"),
            Line2D(
                [], [], marker="o", ls="", markerfacecolor=DEFAULT_COLOR, markeredgecolor="k", markersize=8
            ),
            Line2D([], [], marker="x", ls="", color="k", markersize=8, mew=2),
        ]
        labels += [
            "in no loop",
            "solid: active contract",
            "dashed: defaulted / terminated",
            "has defaulted",
            "in default / liquidated",
        ]
        self.fig.legend(
            handles,
            labels,
            loc="center left",
            bbox_to_anchor=(0.745, 0.45),
            fontsize=6.5,
            ncol=1,
            frameon=False,
            handlelength=1.8,
            title="edges by loop",
            title_fontsize=8,
        )
        self._background = None
        self.value_ref: float | None = None
        self._made = False
        self.full_draws = 0
        self.rank_ref = 0.0  # the largest DebtRank of the run so far: node areas are relative to it
        self.hotspots: list[
            dict
        ] = []  # one per node drawn: name, centre and radius as fractions of the image
        self._placed: tuple | None = None  # (key, label centres) of the last label placement

    def reset(self) -> NetworkView:
        """Ready for a new run: node sizes and label places are set again from its first quarter. The
        background (title and legend) stays valid."""
        self.value_ref = None
        self.rank_ref = 0.0
        self._placed = None
        return self

    def _node_size(self, node: Node) -> float:
        if node.type_label == "world":
            return 110.0
        ref = self.rank_ref
        share = node.debtrank / ref if ref > 0 else 0.0
        return float(np.clip(120.0 + 2000.0 * math.sqrt(max(share, 0.0)), 120.0, 2200.0))

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
        self.halo = ax.add_collection(LineCollection([], alpha=0.45, capstyle="round", **kw))
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
            edges = self.edges = aggregate_edges(model, parties)
            node_list = nodes(model, edges, parties)
            pos = layout(tuple((n.party, n.type_label) for n in node_list))
            self.rank_ref = max(self.rank_ref, max((n.debtrank for n in node_list), default=0.0))
            if self._background is None:
                self.canvas.draw()
                self._background = self.canvas.copy_from_bbox(self.fig.bbox)
                self.full_draws += 1
            else:
                self.canvas.restore_region(self._background)
            self._artists()
            drawn, sprites, sizes = self._update(edges, node_list, pos, selected)
            for artist in drawn:
                self.ax.draw_artist(artist)
            pixels = np.array(self.canvas.buffer_rgba())  # uint8 RGBA copy; labels are pasted into it
            to_px = self.ax.transData.transform
            for sprite, xy, anchor in sprites:
                px, py = to_px(xy)
                self._paste(pixels, sprite, px, py, anchor)
            w, h = self.canvas.get_width_height()
            centres = to_px(np.array([pos[n.party] for n in node_list]))
            radii = [math.sqrt(sizes[n.party]) / 2 * self.fig.dpi / 72.0 for n in node_list]
            labels = [
                self._sprite(
                    n.name,
                    size=7.0 if n.type_label == "world" else 8.0,
                    bold=n.name == selected,
                    color="#555555" if n.type_label == "world" else "#111111",
                    alpha=0.7,
                )
                for n in node_list
            ]
            for sprite, (px, py) in zip(
                labels, self._label_places(node_list, centres, radii, labels), strict=True
            ):
                self._paste(pixels, sprite, px, py)
            self.hotspots = [
                {
                    "name": n.name,
                    "party": n.party,
                    "type": n.type_label,
                    "x": float(cx / w),
                    "y": float(1.0 - cy / h),
                    "r": float(max(r, 7.0) / w),
                    "debtrank": n.debtrank,
                    "defaulted": n.defaulted,
                }
                for n, (cx, cy), r in zip(node_list, centres, radii, strict=True)
            ]
            if label:
                w, h = self.canvas.get_width_height()
                sprite = self._sprite(label, size=11, bold=True, face="white", alpha=0.0)
                self._paste(pixels, sprite, w - sprite[1].shape[1] / 2 - 8, h - sprite[1].shape[0] / 2 - 6)
            return png_rgb(pixels)

    def _label_places(self, node_list, centres, radii, labels) -> list[tuple[float, float]]:
        """Label centres (display pixels) that overlap neither each other nor any node where there is room: each
        label tries places around its node (below, above, right, left, then the corners) and takes the first
        free one, else the least covered. The result is kept while the nodes keep their places and sizes."""
        key = tuple((n.party, round(float(r))) for n, r in zip(node_list, radii, strict=True))
        if self._placed is not None and self._placed[0] == key:
            return self._placed[1]
        w, h = self.canvas.get_width_height()
        ax_box = self.ax.get_window_extent()
        discs = [
            (float(x) - r, float(y) - r, float(x) + r, float(y) + r)
            for (x, y), r in zip(centres, radii, strict=True)
        ]
        placed: list[tuple[float, float, float, float]] = []
        out: list[tuple[float, float] | None] = [None] * len(node_list)

        def cover(box, own: int) -> float:
            x0, y0, x1, y1 = box
            area = 0.0
            for j, (a0, b0, a1, b1) in enumerate([*discs, *placed]):
                if j == own:
                    continue
                dx, dy = min(x1, a1) - max(x0, a0), min(y1, b1) - max(y0, b0)
                if dx > 0 and dy > 0:
                    area += dx * dy
            if x0 < 0 or y0 < 0 or x1 > min(w, ax_box.x1 + 4) or y1 > h:
                area += 1e6  # off the drawing or under the legend
            return area

        order = sorted(range(len(node_list)), key=lambda i: -radii[i])
        for i in order:
            (x, y), r = centres[i], radii[i]
            lw, lh = labels[i][1].shape[1], labels[i][1].shape[0]
            gap = r + 2.0
            candidates = [
                (x, y - gap - lh / 2),
                (x, y + gap + lh / 2),
                (x + gap + lw / 2, y),
                (x - gap - lw / 2, y),
                (x + gap * 0.7 + lw / 2, y - gap * 0.7 - lh / 2),
                (x - gap * 0.7 - lw / 2, y - gap * 0.7 - lh / 2),
                (x + gap * 0.7 + lw / 2, y + gap * 0.7 + lh / 2),
                (x - gap * 0.7 - lw / 2, y + gap * 0.7 + lh / 2),
                (x, y - gap - 1.6 * lh),
                (x, y + gap + 1.6 * lh),
            ]
            best, best_cover = candidates[0], math.inf
            for cx, cy in candidates:
                box = (cx - lw / 2, cy - lh / 2, cx + lw / 2, cy + lh / 2)
                c = cover(box, i)
                if c < best_cover:
                    best, best_cover = (cx, cy), c
                if c == 0:
                    break
            cx, cy = best
            placed.append((cx - lw / 2, cy - lh / 2, cx + lw / 2, cy + lh / 2))
            out[i] = (float(cx), float(cy))
        self._placed = (key, out)
        return out

    def _update(self, edges: list[Edge], node_list: list[Node], pos, selected: str | None) -> list:
        sizes = {n.party: self._node_size(n) for n in node_list}
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
            color = LOOP_COLORS[e.loops[0] if e.loops else 0]
            segs.append(curve)
            cols.append(color)
            wids.append(width)
            heads.append(_arrowhead(curve, 0.035 + 0.004 * width))
            head_colors.append(color)
            if e.loops and not e.broken:
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
        drawn = [self.halo, self.solid, self.dashed, self.heads, self.markers, self.crosses]
        return drawn, sprites, sizes


def node_tips(model, edges: list[Edge], hotspots: list[dict]) -> dict[str, str]:
    """Per node drawn: its DebtRank and exposures (what it is owed and owes, largest counterparties first)."""
    names = model.ledger.names
    owed: dict[int, dict[str, float]] = {}
    owes: dict[int, dict[str, float]] = {}
    for e in edges:
        if e.broken or e.exposure < 0.005:
            continue
        owed.setdefault(e.creditor, {}).setdefault(names[e.debtor] if e.debtor >= 0 else "group", 0.0)
        owed[e.creditor][names[e.debtor] if e.debtor >= 0 else "group"] += e.exposure
        owes.setdefault(e.debtor, {}).setdefault(names[e.creditor] if e.creditor >= 0 else "group", 0.0)
        owes[e.debtor][names[e.creditor] if e.creditor >= 0 else "group"] += e.exposure

    def part(book: dict[str, float]) -> str:
        top = sorted(book.items(), key=lambda kv: -kv[1])[:3]
        more = "…" if len(book) > 3 else ""
        return f"{usd_bn(sum(book.values()))} ({', '.join(f'{k} {usd_bn(x)}' for k, x in top)}{more})"

    tips = {}
    for h in hotspots:
        p = h["party"]
        lines = [f"{h['name']} · {h['type']}"]
        if h["type"] != "world":
            lines.append(f"DebtRank {h['debtrank']:.4f}" + (" · has defaulted" if h["defaulted"] else ""))
        lines.append("is owed " + (part(owed[p]) if p in owed else "nothing"))
        lines.append("owes " + (part(owes[p]) if p in owes else "nothing"))
        tips[h["name"]] = "\n".join(lines)
    return tips


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
