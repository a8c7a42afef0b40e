"""The side-by-side graphs of one DAG as inline SVG: Airflow on the left, KFP on the right.

Both drawings share one :class:`~af2kfp.converters.reports.layout.Layout`. Every node carries
``data-k`` (the index of its Airflow task, ``t0``, ``t1``...) so a click on one side can
highlight the counterpart on the other without putting task ids in selectors. Every
text that comes from a DAG file goes through :func:`html.escape`.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape as _html_escape
from typing import Any

from af2kfp.converters.reports.layout import NODE_H, NODE_W, Box, Layout, layered_layout
from af2kfp.converters.reports.model import is_branch
from af2kfp.converters.reports.sources import kfp_groups
from af2kfp.converters.text import visible

__all__ = ["DagGraphs", "dag_graphs", "task_keys", "ARROW_DEFS"]

# One marker definition for the whole document (referenced by every edge).
ARROW_DEFS = (
    '<svg class="defs" width="0" height="0" aria-hidden="true"><defs>'
    '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
    '<path d="M0,0L10,5L0,10z" fill="#64748b"/></marker></defs></svg>'
)
_MAX_LABEL = 22
_GROUP_CHAR_W = 6.2  # px: a generous average width of a group label's character (10px bold)
_SQUEEZE = 0.88  # the narrowest a group label is squeezed to before it is cut
_FLOW = "kfp:"  # right-hand group path elements naming a KFP control-flow group (else a TaskGroup)
_WIDE = 1100  # px: wider drawings are not shrunk to fit their half of the screen


@dataclass(frozen=True)
class DagGraphs:
    """The two SVG drawings of one DAG and their node counts."""

    airflow_svg: str
    kfp_svg: str
    airflow_nodes: int
    kfp_nodes: int


def escape(text: str, quote: bool = True) -> str:
    """HTML-escaped, with bidi marks and controls shown as escapes (:func:`af2kfp.converters.text.visible`)."""
    return _html_escape(visible(text), quote=quote)


def task_keys(dag: dict[str, Any]) -> dict[str, str]:
    """Airflow task id -> ``t<index>``: the counterpart key used by both graphs and the task list."""
    return {t["task_id"]: f"t{i}" for i, t in enumerate(dag["airflow"]["tasks"])}


def _short(text: str | None, limit: int = _MAX_LABEL) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "\u2026"


def _num(value: float) -> str:
    return f"{value:.0f}"


def _box(box: Box, css: str) -> str:
    """A group box; a label a little too long for it is squeezed to its width, a longer one cut
    too (the whole label in its tooltip)."""
    room = box.w - 16
    shown = _short(box.label, int(room // (_GROUP_CHAR_W * _SQUEEZE)))
    fit = f' textLength="{_num(room)}" lengthAdjust="spacingAndGlyphs"' if len(shown) * _GROUP_CHAR_W > room else ""
    return (f'<g class="{css}"><title>{escape(box.label)}</title>'
            f'<rect x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(box.w)}" height="{_num(box.h)}" rx="8"/>'
            f'<text x="{_num(box.x + 8)}" y="{_num(box.y + 13)}"{fit}>{escape(shown)}</text></g>')


def _kfp_groups(dag: dict[str, Any], keys: dict[str, str], groups: dict[str, tuple[str, ...]],
                compiled_yaml: str | None) -> tuple[dict[str, tuple[str, ...]], dict[tuple[str, ...], str]]:
    """The right-hand groups, by the Airflow task each KFP task is drawn at: KFP's control-flow
    blocks, and inside them the task's TaskGroups (split where a block cuts through one)."""
    tasks = dag["kfp"]["tasks"]
    if tasks and all("groups" in t for t in tasks):  # report.json carries them (af2kfp convert)
        flow = {t["name"]: tuple(tuple(g) for g in t["groups"]) for t in tasks}
    else:  # an older report.json: read them from the compiled pipeline
        flow = kfp_groups(compiled_yaml)
    paths: dict[str, tuple[str, ...]] = {}
    labels: dict[tuple[str, ...], str] = {}
    for t in dag["kfp"]["tasks"]:
        ids = [i for i in t.get("airflow_task_ids") or [] if i in keys]
        if not ids:
            continue
        blocks = [(f"{_FLOW}{gid}", label) for gid, label in flow.get(t["name"], ())]
        task_group = groups.get(ids[0], ())
        blocks += [("tg:" + "/".join(task_group[:d + 1]), f"TaskGroup {g}") for d, g in enumerate(task_group)]
        path = tuple(gid for gid, _ in blocks)
        labels.update((path[:d + 1], label) for d, (_, label) in enumerate(blocks))
        paths[ids[0]] = path
    return paths, labels


def _edge(a: tuple[float, float], b: tuple[float, float], css: str) -> str:
    x1, y1 = a[0], a[1] + NODE_H / 2
    x2, y2 = b[0], b[1] - NODE_H / 2
    if y2 <= y1:  # an edge going up (a cycle's closing edge): leave from the side
        x1, y1, x2, y2 = a[0] + NODE_W / 2, a[1], b[0] + NODE_W / 2, b[1]
        return (f'<path class="{css}" d="M{_num(x1)},{_num(y1)}C{_num(x1 + 40)},{_num(y1)} '
                f'{_num(x2 + 40)},{_num(y2)} {_num(x2)},{_num(y2)}"/>')
    mid = (y1 + y2) / 2
    return f'<path class="{css}" d="M{_num(x1)},{_num(y1)}C{_num(x1)},{_num(mid)} {_num(x2)},{_num(mid)} {_num(x2)},{_num(y2)}"/>'


def _node(pos: tuple[float, float], *, key: str, keys: str, css: str, title: str, label: str, sub: str,
          branch: bool = False, mapped: bool = False) -> str:
    x, y = pos[0] - NODE_W / 2, pos[1] - NODE_H / 2
    parts = [f'<g class="{css}" data-k="{key}" data-ks="{keys}" tabindex="0"><title>{escape(title)}</title>']
    if mapped:  # a stack of cards: the task runs once per mapped item
        parts.append(f'<rect class="stack" x="{_num(x + 5)}" y="{_num(y - 5)}" width="{NODE_W}" height="{NODE_H}" rx="6"/>')
    parts.append(f'<rect x="{_num(x)}" y="{_num(y)}" width="{NODE_W}" height="{NODE_H}" rx="6"/>')
    text_x = x + 8
    if branch:  # a diamond: this task chooses which downstream tasks run
        cx, cy = x + 12, y + NODE_H / 2
        parts.append(f'<path class="diamond" d="M{_num(cx)},{_num(cy - 7)}L{_num(cx + 7)},{_num(cy)}'
                     f'L{_num(cx)},{_num(cy + 7)}L{_num(cx - 7)},{_num(cy)}z"/>')
        text_x += 14
    parts.append(f'<text x="{_num(text_x)}" y="{_num(y + 14)}">{escape(_short(label))}</text>')
    parts.append(f'<text class="sub" x="{_num(text_x)}" y="{_num(y + 27)}">{escape(_short(sub))}</text></g>')
    return "".join(parts)


def _svg(layout: Layout, side: str, body: list[str]) -> str:
    wide = " wide" if layout.width > _WIDE else ""  # kept at a readable size; its box scrolls
    return (f'<svg class="graph {side}{wide}" viewBox="0 0 {_num(layout.width)} {_num(layout.height)}" '
            f'width="{_num(layout.width)}" role="img" aria-label="{side} graph">{"".join(body)}</svg>')


def dag_graphs(dag: dict[str, Any], compiled_yaml: str | None = None) -> DagGraphs:
    """Draw the Airflow DAG and the KFP pipeline of one report entry with the same layout.

    ``compiled_yaml`` (the DAG's ``pipeline.yaml``) adds KFP control-flow group boxes.
    """
    airflow_tasks = dag["airflow"]["tasks"]
    keys = task_keys(dag)
    groups = {t["task_id"]: tuple(t.get("group") or ()) for t in airflow_tasks}
    labels = {path: f"TaskGroup {path[-1]}" for path in {p[:d] for p in groups.values() for d in range(1, len(p) + 1)}}
    right_groups, right_labels = _kfp_groups(dag, keys, groups, compiled_yaml)
    layout = layered_layout(keys, [tuple(e) for e in dag["airflow"]["edges"]], groups=groups, labels=labels,
                            right_groups=right_groups, right_labels=right_labels)
    graph_tasks = {t.get("task_id"): t for t in (dag.get("graph") or {}).get("tasks") or []}
    branches = {t["task_id"] for t in airflow_tasks if is_branch(t["operator"])}

    left = [_box(b, "group") for b in layout.boxes]
    for u, v in dag["airflow"]["edges"]:
        if u in layout.positions and v in layout.positions:
            left.append(_edge(layout.positions[u], layout.positions[v], "edge branch-edge" if u in branches else "edge"))
    for t in airflow_tasks:
        tid = t["task_id"]
        mapped = bool((graph_tasks.get(tid) or {}).get("mapped"))
        left.append(_node(layout.positions[tid], key=keys[tid], keys=keys[tid], css=f"node fate-{t['fate']}",
                          title=f"{tid} ({t.get('label') or t['operator']}, {t['fate']}{', mapped' if mapped else ''})",
                          label=tid, sub=(t.get("label") or "") + (" \u00d7 expand()" if mapped else ""),
                          branch=tid in branches, mapped=mapped))

    kfp_pos: dict[str, tuple[float, float]] = {}
    right_nodes = []
    fate = {t["task_id"]: t["fate"] for t in airflow_tasks}
    for t in dag["kfp"]["tasks"]:
        ids = [i for i in t.get("airflow_task_ids") or [] if i in keys]
        if not ids:
            continue
        pos = layout.positions[ids[0]]
        kfp_pos[t["name"]] = pos
        right_nodes.append(_node(pos, key=keys[ids[0]], keys=" ".join(keys[i] for i in ids),
                                 css=f"node fate-{fate[ids[0]]} kind-{escape(str(t.get('kind')))}",
                                 title=f"{t['name']} ({t.get('kind')}, image {t.get('image')})",
                                 label=t["name"], sub=f"{t.get('kind')} \u00b7 {t.get('rule')}",
                                 branch=ids[0] in branches))
    in_kfp = {i for t in dag["kfp"]["tasks"] for i in t.get("airflow_task_ids") or []}
    ghosts = [  # folded into the edges (fate folded, or review when folding changed what it did)
        _node(layout.positions[t["task_id"]], key=keys[t["task_id"]], keys=keys[t["task_id"]], css="ghost",
              title=f"{t['task_id']} folded into the edges", label=t["task_id"], sub="folded")
        for t in airflow_tasks if t["task_id"] not in in_kfp and t["task_id"] in layout.positions
    ]
    right = [_box(b, "group flow" if b.path[-1].startswith(_FLOW) else "group") for b in layout.right_boxes]
    right += ghosts
    for u, v in dag["kfp"]["edges"]:
        if u in kfp_pos and v in kfp_pos:
            right.append(_edge(kfp_pos[u], kfp_pos[v], "edge"))
    right += right_nodes
    return DagGraphs(airflow_svg=_svg(layout, "airflow", left), kfp_svg=_svg(layout, "kfp", right),
                     airflow_nodes=len(airflow_tasks), kfp_nodes=len(right_nodes))
