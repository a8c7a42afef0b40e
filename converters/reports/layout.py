"""A layered (Sugiyama-style) layout of a DAG, computed once and drawn twice.

Both sides of the side-by-side view use the positions computed here from the Airflow
graph, so a task sits at the same place in the Airflow DAG and in the KFP pipeline.
Layers are longest-path generations (top to bottom); within a layer, nodes are ordered
by a few barycentre sweeps, keeping each group (TaskGroup path) contiguous, with a gap
between groups so their boxes do not overlap.

Each drawing has groups of its own: TaskGroups on the left, KFP's control-flow blocks
(and the TaskGroups inside them) on the right. Rows and gaps leave room for the boxes of
both, and the drawing's size holds every box of both, so both sides have the same size
and a task still sits at the same place on each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import networkx as nx

__all__ = ["NODE_W", "NODE_H", "Box", "Layout", "layered_layout", "group_boxes"]

Groups = dict[str, tuple[str, ...]]  # node -> its group path, outermost first

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
    """Node centres, the group boxes of the left and of the right drawing, and the size of both."""

    positions: dict[str, tuple[float, float]]
    boxes: list[Box]
    width: float
    height: float
    right_boxes: tuple[Box, ...] = ()


def _acyclic(graph: nx.DiGraph) -> nx.DiGraph:
    """The graph without the edges that close cycles: the back edges of one depth-first walk (each
    cycle's last edge), found in time linear in the edges however many cycles there are."""
    back = []
    state: dict[str, int] = {}  # 1: on the walk's path, 2: done
    for root in graph:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(graph.successors(root)))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.append((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(graph.successors(child))))
    if not back:
        return graph.copy()
    graph = graph.copy()
    graph.remove_edges_from(back)
    return graph


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
    # positions are kept up to date layer by layer (rebuilding them for every layer was quadratic in a long chain)
    position = {n: p for layer in layers for p, n in enumerate(layer)}
    for sweep in range(_SWEEPS):
        downward = sweep % 2 == 0
        indices = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        for i in indices:
            bary = {}
            for p, node in enumerate(layers[i]):
                near = list(graph.predecessors(node) if downward else graph.successors(node))
                bary[node] = sum(position[n] for n in near) / len(near) if near else float(p)
            layers[i] = _group_sort(layers[i], bary, groups)
            position.update((n, p) for p, n in enumerate(layers[i]))


def _changed(previous: tuple[str, ...], current: tuple[str, ...]) -> int:
    """How many group levels close or open between two neighbours."""
    shared = 0
    while shared < min(len(previous), len(current)) and previous[shared] == current[shared]:
        shared += 1
    return max(len(previous), len(current)) - shared


def _x_offsets(layer: list[str], groupings: list[Groups]) -> list[float]:
    xs, x = [], 0.0
    for p, node in enumerate(layer):
        if p:
            x += _DX + _GROUP_GAP * max(_changed(g.get(layer[p - 1], ()), g.get(node, ())) for g in groupings)
        xs.append(x)
    return xs


def _prefixes(path: tuple[str, ...]) -> set[tuple[str, ...]]:
    return {path[:d] for d in range(1, len(path) + 1)}


def _between(upper: list[str], lower: list[str], groups: Groups) -> float:
    """The room group boxes need between two layers: padding where they close, padding and label where they open."""
    def fresh(layer: list[str], other: list[str]) -> int:
        present = set().union(*(_prefixes(groups.get(n, ())) for n in other))
        return max((sum(1 for p in _prefixes(groups.get(n, ())) if p not in present) for n in layer), default=0)
    return fresh(lower, upper) * (_PAD + _LABEL) + fresh(upper, lower) * _PAD


def _row_positions(layers: list[list[str]], groupings: list[Groups]) -> list[float]:
    """The y of each layer, with room for the group boxes of every drawing."""
    rows, y = [], 0.0
    for i in range(len(layers)):
        if i:
            y += _DY + max(_between(layers[i - 1], layers[i], g) for g in groupings)
        rows.append(y)
    return rows


def group_boxes(positions: dict[str, tuple[float, float]], groups: Groups,
                labels: dict[tuple[str, ...], str]) -> list[Box]:
    """A box around each group (and each enclosing group) of the placed nodes, outer groups first.

    Boxes grow from the inside out: a box holds its nodes and the boxes of its inner groups,
    a padding away, with its label above them, so nested boxes never cross."""
    rects: dict[tuple[str, ...], list[tuple[float, float, float, float]]] = {}
    for node, path in groups.items():
        if node in positions and path:
            x, y = positions[node]
            rects.setdefault(tuple(path), []).append((x - NODE_W / 2, y - NODE_H / 2, x + NODE_W / 2, y + NODE_H / 2))
            for depth in range(1, len(path)):
                rects.setdefault(tuple(path[:depth]), [])
    boxes = []
    for path in sorted(rects, key=len, reverse=True):
        inside = rects[path]
        x0, y0 = min(r[0] for r in inside) - _PAD, min(r[1] for r in inside) - _PAD - _LABEL
        x1, y1 = max(r[2] for r in inside) + _PAD, max(r[3] for r in inside) + _PAD
        boxes.append(Box(path=path, label=labels.get(path, path[-1]), x=x0, y=y0, w=x1 - x0, h=y1 - y0))
        if len(path) > 1:
            rects[path[:-1]].append((x0, y0, x1, y1))
    return sorted(boxes, key=lambda b: len(b.path))


def _moved(box: Box, dx: float, dy: float) -> Box:
    return Box(path=box.path, label=box.label, x=box.x + dx, y=box.y + dy, w=box.w, h=box.h)


def layered_layout(nodes: Iterable[str], edges: Iterable[tuple[str, str]], *,
                   groups: Groups | None = None, labels: dict[tuple[str, ...], str] | None = None,
                   right_groups: Groups | None = None,
                   right_labels: dict[tuple[str, ...], str] | None = None) -> Layout:
    """Lay out ``nodes`` (in source order) top to bottom; ``groups`` maps a node to its group path
    in the left drawing, ``right_groups`` in the right one (boxes in ``Layout.right_boxes``)."""
    groups = {n: tuple(p) for n, p in (groups or {}).items() if p}
    right = {n: tuple(p) for n, p in (right_groups or {}).items() if p}
    # one order keeps the left groups together, and within them the right ones
    ordering = {n: tuple(f"left:{g}" for g in groups.get(n, ())) + tuple(f"right:{g}" for g in right.get(n, ()))
                for n in set(groups) | set(right)}
    graph = nx.DiGraph()
    order = {}
    for i, node in enumerate(nodes):
        graph.add_node(node)
        order[node] = i
    graph.add_edges_from((u, v) for u, v in edges if u in order and v in order and u != v)
    graph = _acyclic(graph)
    layers = _layers(graph, order)
    for i, layer in enumerate(layers):  # an initial order that already keeps groups together
        layers[i] = _group_sort(layer, {n: float(p) for p, n in enumerate(layer)}, ordering)
    _sweep(layers, graph, ordering)
    offsets = [_x_offsets(layer, [groups, right]) for layer in layers]
    span = max((xs[-1] for xs in offsets if xs), default=0.0)
    positions = {}
    rows = _row_positions(layers, [groups, right])
    for i, (layer, xs) in enumerate(zip(layers, offsets)):
        shift = (span - xs[-1]) / 2 if xs else 0.0
        for node, x in zip(layer, xs):
            positions[node] = (x + shift, rows[i])
    left_boxes = group_boxes(positions, groups, labels or {})
    right_boxes = group_boxes(positions, right, right_labels or {})
    every = left_boxes + right_boxes
    min_x = min([x - NODE_W / 2 for x, _ in positions.values()] + [b.x for b in every], default=0.0) - _MARGIN
    min_y = min([y - NODE_H / 2 for _, y in positions.values()] + [b.y for b in every], default=0.0) - _MARGIN
    positions = {n: (x - min_x, y - min_y) for n, (x, y) in positions.items()}
    every = [_moved(b, -min_x, -min_y) for b in every]
    width = max([x + NODE_W / 2 for x, _ in positions.values()] + [b.x + b.w for b in every], default=0.0) + _MARGIN
    height = max([y + NODE_H / 2 for _, y in positions.values()] + [b.y + b.h for b in every], default=0.0) + _MARGIN
    return Layout(positions=positions, boxes=every[:len(left_boxes)], width=max(width, NODE_W + 2 * _MARGIN),
                  height=max(height, 2 * _MARGIN), right_boxes=tuple(every[len(left_boxes):]))
