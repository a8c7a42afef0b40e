"""A layered (Sugiyama-style) layout of a DAG, computed once and drawn twice.

Both sides of the side-by-side view use the positions computed here from the Airflow
graph, so a task sits at the same place in the Airflow DAG and in the KFP pipeline.
Layers are longest-path generations (top to bottom); within a layer, nodes are ordered
by a few barycentre sweeps, keeping each group (TaskGroup path) contiguous, with a gap
between groups so their boxes do not overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import networkx as nx

__all__ = ["NODE_W", "NODE_H", "Box", "Layout", "layered_layout", "group_boxes"]

NODE_W, NODE_H = 156, 34
_DX, _DY, _GROUP_GAP, _PAD, _LABEL, _MARGIN = 172, 64, 22, 8, 14, 16
_SWEEPS = 4


@dataclass(frozen=True)
class Box:
    """A rectangle around the nodes of one group; ``path`` is the group path, ``label`` what to print."""

    path: tuple[str, ...]
    label: str
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Layout:
    """Node centres, group boxes and the drawing's size."""

    positions: dict[str, tuple[float, float]]
    boxes: list[Box]
    width: float
    height: float


def _acyclic(graph: nx.DiGraph) -> nx.DiGraph:
    """The graph without the edges that close cycles (a cycle's last edge is dropped)."""
    graph = graph.copy()
    while True:
        try:
            cycle = nx.find_cycle(graph)
        except nx.NetworkXNoCycle:
            return graph
        graph.remove_edge(*cycle[-1][:2])


def _layers(graph: nx.DiGraph, order: dict[str, int]) -> list[list[str]]:
    level: dict[str, int] = {}
    for node in nx.lexicographical_topological_sort(graph, key=lambda n: order[n]):
        level[node] = max((level[p] + 1 for p in graph.predecessors(node)), default=0)
    layers: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for node in sorted(level, key=lambda n: order[n]):
        layers[level[node]].append(node)
    return layers


def _group_sort(nodes: list[str], bary: dict[str, float], groups: dict[str, tuple[str, ...]], depth: int = 0) -> list[str]:
    """Order by barycentre, a group moving as one block (recursively for nested groups)."""
    units: dict[object, list[str]] = {}
    for node in nodes:
        path = groups.get(node, ())
        key: object = ("group", path[depth]) if len(path) > depth else ("node", node)
        units.setdefault(key, []).append(node)
    ordered = sorted(units.items(), key=lambda kv: sum(bary[n] for n in kv[1]) / len(kv[1]))
    out: list[str] = []
    for key, members in ordered:
        out.extend(_group_sort(members, bary, groups, depth + 1) if key[0] == "group" else members)
    return out


def _sweep(layers: list[list[str]], graph: nx.DiGraph, groups: dict[str, tuple[str, ...]]) -> None:
    for sweep in range(_SWEEPS):
        downward = sweep % 2 == 0
        indices = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        for i in indices:
            position = {n: p for layer in layers for p, n in enumerate(layer)}
            bary = {}
            for p, node in enumerate(layers[i]):
                near = list(graph.predecessors(node) if downward else graph.successors(node))
                bary[node] = sum(position[n] for n in near) / len(near) if near else float(p)
            layers[i] = _group_sort(layers[i], bary, groups)


def _x_offsets(layer: list[str], groups: dict[str, tuple[str, ...]]) -> list[float]:
    xs, x = [], 0.0
    for p, node in enumerate(layer):
        if p:
            x += _DX
            previous, current = groups.get(layer[p - 1], ()), groups.get(node, ())
            if previous != current:
                shared = 0
                while shared < min(len(previous), len(current)) and previous[shared] == current[shared]:
                    shared += 1
                x += _GROUP_GAP * (max(len(previous), len(current)) - shared)
        xs.append(x)
    return xs


def _prefixes(path: tuple[str, ...]) -> set[tuple[str, ...]]:
    return {path[:d] for d in range(1, len(path) + 1)}


def _row_positions(layers: list[list[str]], groups: dict[str, tuple[str, ...]]) -> list[float]:
    """The y of each layer: more room where group boxes open (their label) or close (their padding)."""
    present = [set().union(*(_prefixes(groups.get(n, ())) for n in layer)) if layer else set() for layer in layers]
    rows, y = [], 0.0
    for i in range(len(layers)):
        if i:
            opening = max((len(groups.get(n, ())) - sum(1 for p in _prefixes(groups.get(n, ())) if p in present[i - 1])
                           for n in layers[i]), default=0)
            closing = max((len(groups.get(n, ())) - sum(1 for p in _prefixes(groups.get(n, ())) if p in present[i])
                           for n in layers[i - 1]), default=0)
            y += _DY + opening * (_PAD + _LABEL) + closing * _PAD
        rows.append(y)
    return rows


def group_boxes(positions: dict[str, tuple[float, float]], groups: dict[str, tuple[str, ...]],
                labels: dict[tuple[str, ...], str]) -> list[Box]:
    """A box around each group (and each enclosing group) of the placed nodes, outer groups first."""
    members: dict[tuple[str, ...], list[str]] = {}
    for node, path in groups.items():
        if node in positions:
            for depth in range(1, len(path) + 1):
                members.setdefault(tuple(path[:depth]), []).append(node)
    deepest = {p: max(len(groups[n]) for n in nodes) for p, nodes in members.items()}
    boxes = []
    for path, nodes in sorted(members.items(), key=lambda kv: len(kv[0])):
        pad = _PAD + (deepest[path] - len(path)) * _PAD
        xs = [positions[n][0] for n in nodes]
        ys = [positions[n][1] for n in nodes]
        x0, x1 = min(xs) - NODE_W / 2 - pad, max(xs) + NODE_W / 2 + pad
        y0 = min(ys) - NODE_H / 2 - pad - _LABEL * (1 + deepest[path] - len(path))
        y1 = max(ys) + NODE_H / 2 + pad
        boxes.append(Box(path=path, label=labels.get(path, path[-1]), x=x0, y=y0, w=x1 - x0, h=y1 - y0))
    return boxes


def layered_layout(nodes: Iterable[str], edges: Iterable[tuple[str, str]], *,
                   groups: dict[str, tuple[str, ...]] | None = None,
                   labels: dict[tuple[str, ...], str] | None = None) -> Layout:
    """Lay out ``nodes`` (in source order) top to bottom; ``groups`` maps a node to its group path."""
    groups = {n: tuple(p) for n, p in (groups or {}).items() if p}
    graph = nx.DiGraph()
    order = {}
    for i, node in enumerate(nodes):
        graph.add_node(node)
        order[node] = i
    graph.add_edges_from((u, v) for u, v in edges if u in order and v in order and u != v)
    graph = _acyclic(graph)
    layers = _layers(graph, order)
    for i, layer in enumerate(layers):  # an initial order that already keeps groups together
        layers[i] = _group_sort(layer, {n: float(p) for p, n in enumerate(layer)}, groups)
    _sweep(layers, graph, groups)
    offsets = [_x_offsets(layer, groups) for layer in layers]
    span = max((xs[-1] for xs in offsets if xs), default=0.0)
    positions = {}
    rows = _row_positions(layers, groups)
    for i, (layer, xs) in enumerate(zip(layers, offsets)):
        shift = (span - xs[-1]) / 2 if xs else 0.0
        for node, x in zip(layer, xs):
            positions[node] = (x + shift, rows[i])
    boxes = group_boxes(positions, groups, labels or {})
    min_x = min([x - NODE_W / 2 for x, _ in positions.values()] + [b.x for b in boxes], default=0.0) - _MARGIN
    min_y = min([y - NODE_H / 2 for _, y in positions.values()] + [b.y for b in boxes], default=0.0) - _MARGIN
    positions = {n: (x - min_x, y - min_y) for n, (x, y) in positions.items()}
    boxes = [Box(path=b.path, label=b.label, x=b.x - min_x, y=b.y - min_y, w=b.w, h=b.h) for b in boxes]
    width = max([x + NODE_W / 2 for x, _ in positions.values()] + [b.x + b.w for b in boxes], default=0.0) + _MARGIN
    height = max([y + NODE_H / 2 for _, y in positions.values()] + [b.y + b.h for b in boxes], default=0.0) + _MARGIN
    return Layout(positions=positions, boxes=boxes, width=max(width, NODE_W + 2 * _MARGIN), height=max(height, 2 * _MARGIN))
