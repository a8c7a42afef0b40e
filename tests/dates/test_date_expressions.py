"""Date templates render the same text through Airflow's Jinja and through the run context.

Airflow side: its own template environment (``create_template_env``, with its filters and
``macros``) over the context its task runner builds from a pendulum logical date. KFP side:
the template translated (``translate_template``) and computed by the generated run context.
"""

from __future__ import annotations

import pytest

from af2kfp.converters.run_context import Timing
from af2kfp.converters.templating import ContextRef, TemplateContext, translate_template
from tests.dates.run_context_exec import values

pytest.importorskip("airflow")

import pendulum  # noqa: E402
from airflow.sdk.definitions._internal.templater import create_template_env  # noqa: E402
from airflow.sdk.execution_time import macros  # noqa: E402

CTX = TemplateContext(dag_id="d", task_id="t")
LOGICAL = pendulum.datetime(2024, 3, 5, 6, 30, 15, tz="UTC")

TEMPLATES = [
    "{{ ds }}", "{{ ds_nodash }}", "{{ ts }}", "{{ ts_nodash }}", "{{ ts_nodash_with_tz }}", "{{ logical_date }}",
    "{{ data_interval_start }}", "{{ data_interval_end }}", "{{ dag_run.logical_date }}",
    "{{ macros.ds_add(ds, -1) }}", "{{ macros.ds_add(ds, 7) }}", "{{ macros.ds_add(ds, 0) }}",
    "{{ macros.ds_format(ds, '%Y-%m-%d', '%m%d%Y') }}", "{{ macros.ds_format(macros.ds_add(ds, 6), '%Y-%m-%d', '%Y%m%d') }}",
    "{{ ds | replace('-', '') }}", "{{ ds | replace('-', '/') }}", "{{ ds_nodash | upper }}",
    "{{ logical_date | ds }}", "{{ data_interval_end | ts }}", "{{ data_interval_end | ds_nodash }}",
    "{{ logical_date.strftime('%Y/%m') }}", "{{ logical_date.year }}", "{{ logical_date.month - 1 }}",
    "{{ (logical_date - macros.timedelta(days=1)).strftime('%Y-%m-%d') }}",
    "{{ logical_date.replace(hour=4, minute=0).isoformat() }}", "{{ logical_date.isoformat() }}",
    "{{ macros.datetime(2024, 1, 1).strftime('%Y') }}", "{{ ds ~ '_' ~ ts_nodash }}",
    "{{ (logical_date + macros.timedelta(hours=3)).hour }}", "{{ 'x' if logical_date.day > 3 else 'y' }}",
    "day={{ ds }}/hour={{ logical_date.strftime('%H') }}", "{{ ds[:7] if false else ds[0:4] }}",
]


def _airflow(template: str) -> str:
    ts = LOGICAL.isoformat()
    context = {"ds": LOGICAL.strftime("%Y-%m-%d"), "ds_nodash": LOGICAL.strftime("%Y%m%d"), "ts": ts,
               "ts_nodash": LOGICAL.strftime("%Y%m%dT%H%M%S"), "ts_nodash_with_tz": ts.replace("-", "").replace(":", ""),
               "logical_date": LOGICAL, "data_interval_start": LOGICAL, "data_interval_end": LOGICAL,
               "macros": macros, "dag_run": type("DagRun", (), {"logical_date": LOGICAL})()}
    return create_template_env().from_string(template).render(**context)


def _kfp(template: str) -> str:
    parts = translate_template(template, CTX).parts
    refs = {p.name: p.python for p in parts if isinstance(p, ContextRef)}
    assert all(isinstance(p, (str, ContextRef)) for p in parts), parts
    got = values(Timing(), refs, override=LOGICAL.isoformat()) if refs else {}
    return "".join(p if isinstance(p, str) else got[p.name] for p in parts)


@pytest.mark.parametrize("template", TEMPLATES)
def test_renders_as_airflow_renders_it(template):
    assert translate_template(template, CTX).findings == ()
    assert _kfp(template) == _airflow(template)


@pytest.mark.parametrize("template", [
    "{{ data_interval_end.at(0) | ts }}",  # pendulum's DateTime.at(): datetime has none
    "{{ logical_date.add(days=1) }}",
    "{{ macros.dateutil.relativedelta.relativedelta(months=1) }}",  # not one the run context provides
    "{{ ds if dag_run.conf['x'] else '' }}",  # the run's configuration is not a date
])
def test_what_the_run_context_cannot_compute_keeps_its_finding(template):
    assert [f.code for f in translate_template(template, CTX).findings] == ["M240"]
