"""KFP v2 pipeline for the Airflow DAG orders_snapshot, converted by af2kfp.

Airflow source: samples/repo_style/dags/orders_snapshot.py:55
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path
from typing import NamedTuple

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def extract() -> str:
    import json

    return json.dumps(
        {
            "berlin": [
                {"order": "B-1", "loaded_at": "2024-05-31", "total": 12.5},
                {"order": "B-2", "loaded_at": "2024-06-02", "total": 40.0},
            ],
            "lyon": [{"order": "L-7", "loaded_at": "2024-05-30", "total": 8.0}],
        }
    )


@dsl.component(base_image="python:3.11")
def new_orders_berlin(orders: str, store: str) -> NamedTuple(
    "Outputs",
    [
        ("return_value", str),
        ("not_skipped", bool),
    ],
):
    import json

    class AirflowException(Exception):
        """Airflow's exception classes the task uses: the component's image has no Airflow."""

    class AirflowSkipException(AirflowException):
        pass

    def rows_loaded_after(rows, cutoff):
        """The rows loaded after ``cutoff`` (ISO dates compare as text); skip the task when there are none."""
        fresh = [row for row in rows if row["loaded_at"] > cutoff]
        if not fresh:
            raise AirflowSkipException(f"no rows loaded after {cutoff}")
        return fresh

    def new_orders(orders, store):
        # Values that travel as JSON text, decoded back to what Airflow passes
        orders = json.loads(orders)

        fresh = rows_loaded_after(orders[store], "2024-06-01")
        print(f"{store}: {len(fresh)} new order(s)")
        return json.dumps(fresh)

    # AirflowSkipException: Airflow marks the task skipped; report it, do not fail
    try:
        result = new_orders(orders, store)
    except AirflowSkipException as skip:
        print(f"AirflowSkipException: {skip}")
        return "null", False
    return result, True


@dsl.component(base_image="python:3.11")
def write_berlin(rows: str, snapshot_retention_days: str) -> str:
    import json
    from types import SimpleNamespace

    class Asset:
        """Airflow's Asset (or Dataset) as a task reads it: name, uri, group, extra (af2kfp stand-in)."""

        def __init__(self, name=None, uri=None, *, group=None, extra=None, **kwargs):
            if name is None and uri is None:
                raise TypeError("Asset() requires either 'name' or 'uri'")
            self.name = str(uri) if name is None else name
            self.uri = self._normalised(str(name if uri is None else uri))
            self.group = group or "asset"
            self.extra = {} if extra is None else extra

        @staticmethod
        def _normalised(uri):
            import urllib.parse

            parts = urllib.parse.urlsplit(uri)
            scheme = parts.scheme.lower()
            if not scheme or scheme.startswith("x-"):
                return uri
            netloc = parts.netloc.rpartition("@")[2] if parts.password else parts.netloc
            pairs = sorted(urllib.parse.parse_qsl(parts.query))
            query = urllib.parse.urlencode(pairs) if parts.query else ""
            path = parts.path.rstrip("/") or "/"
            return urllib.parse.urlunsplit((scheme, netloc, path, query, ""))

        def __fspath__(self):
            return self.uri

        def __eq__(self, other):
            if not isinstance(other, Asset):
                return NotImplemented
            mine = (self.name, self.uri, self.group, self.extra)
            return mine == (other.name, other.uri, other.group, other.extra)

        def __hash__(self):
            return hash((self.name, self.uri, self.group))

        def __repr__(self):
            return (
                f"Asset(name={self.name!r}, uri={self.uri!r}, group={self.group!r}, extra={self.extra!r}, "
                "watchers=[], access_control=AssetAccessControl(producer_teams=[], consumer_teams=None, "
                "allow_global=True))"
            )

    class Variable:
        """Airflow Variables this task reads: supplied at conversion, or pipeline parameters (af2kfp)."""

        values = {
            "deployment_env": "prod",
            "snapshot_retention_days": snapshot_retention_days,
        }

        @classmethod
        def get(cls, key, default_var=None, deserialize_json=False, **kwargs):
            return cls.values[key]

    def _settings_module():
        """`from include.acme_airflow import settings`: what the task reads of it, as a namespace (af2kfp)."""
        DEPLOYMENT_ENV = Variable.get("deployment_env", default_var="dev")
        SNAPSHOT_RETENTION_DAYS = int(Variable.get("snapshot_retention_days", default_var="30"))
        ORDERS_SNAPSHOT = Asset(f"gs://acme-lake-{DEPLOYMENT_ENV}/snapshots/orders/")
        return SimpleNamespace(
            DEPLOYMENT_ENV=DEPLOYMENT_ENV,
            ORDERS_SNAPSHOT=ORDERS_SNAPSHOT,
            SNAPSHOT_RETENTION_DAYS=SNAPSHOT_RETENTION_DAYS,
        )

    settings = _settings_module()

    # Values that travel as JSON text, decoded back to what Airflow passes
    rows = json.loads(rows)

    target = f"{settings.ORDERS_SNAPSHOT.uri}/env={settings.DEPLOYMENT_ENV}"
    print(f"writing {len(rows)} row(s) to {target}, kept {settings.SNAPSHOT_RETENTION_DAYS} days")
    return json.dumps(
        {"target": target, "rows": len(rows), "name": settings.ORDERS_SNAPSHOT.name}
    )


@dsl.component(base_image="python:3.11")
def audit(berlin: str = "null", lyon: str = "null") -> str:
    import json
    from types import SimpleNamespace

    class Variable:
        """Airflow Variables this task reads: supplied at conversion, or pipeline parameters (af2kfp)."""

        values = {"deployment_env": "prod"}

        @classmethod
        def get(cls, key, default_var=None, deserialize_json=False, **kwargs):
            return cls.values[key]

    def _settings_module():
        """`from include.acme_airflow import settings`: what the task reads of it, as a namespace (af2kfp)."""
        DEPLOYMENT_ENV = Variable.get("deployment_env", default_var="dev")
        return SimpleNamespace(DEPLOYMENT_ENV=DEPLOYMENT_ENV)

    settings = _settings_module()

    # Values that travel as JSON text, decoded back to what Airflow passes
    berlin = json.loads(berlin)
    lyon = json.loads(lyon)

    counts = {"berlin": None if berlin is None else len(berlin), "lyon": None if lyon is None else len(lyon)}
    print(f"audit in {settings.DEPLOYMENT_ENV}: {counts}")
    return json.dumps(counts)


@dsl.pipeline(
    name="after-new-orders-berlin",
    description="The tasks Airflow runs when new_orders_berlin was not skipped, as one unit a join waits for.",
)
def after_new_orders_berlin(
    new_orders_berlin_return_value: str,
    new_orders_berlin_not_skipped: bool,
    snapshot_retention_days: str,
):
    with dsl.If(new_orders_berlin_not_skipped == True):
        # Airflow: samples/repo_style/dags/orders_snapshot.py:50 write_berlin (@task)
        write_berlin_task = (
            write_berlin(
                rows=new_orders_berlin_return_value,
                snapshot_retention_days=snapshot_retention_days,
            )
            .set_display_name("write_berlin")
            .set_caching_options(False)
        )


@dsl.pipeline(
    name="after-new-orders-lyon",
    description="The tasks Airflow runs when new_orders_lyon was not skipped, as one unit a join waits for.",
)
def after_new_orders_lyon(
    new_orders_lyon_return_value: str,
    new_orders_lyon_not_skipped: bool,
    snapshot_retention_days: str,
):
    with dsl.If(new_orders_lyon_not_skipped == True):
        # Airflow: samples/repo_style/dags/orders_snapshot.py:51 write_lyon (@task)
        write_lyon_task = (
            write_berlin(
                rows=new_orders_lyon_return_value,
                snapshot_retention_days=snapshot_retention_days,
            )
            .set_display_name("write_lyon")
            .set_caching_options(False)
        )


@dsl.pipeline(
    name="orders-snapshot",
    description="Converted from Airflow DAG orders_snapshot (samples/repo_style/dags/orders_snapshot.py:55).",
)
def orders_snapshot(snapshot_retention_days: str = "30"):
    # Airflow: samples/repo_style/dags/orders_snapshot.py:47 extract (@task)
    extract_task = extract().set_display_name("extract").set_caching_options(False)
    # Airflow: samples/repo_style/dags/orders_snapshot.py:48 new_orders_berlin (@task)
    new_orders_berlin_task = (
        new_orders_berlin(orders=extract_task.output, store="berlin")
        .set_display_name("new_orders_berlin")
        .set_caching_options(False)
    )
    # Airflow: samples/repo_style/dags/orders_snapshot.py:49 new_orders_lyon (@task)
    new_orders_lyon_task = (
        new_orders_berlin(orders=extract_task.output, store="lyon")
        .set_display_name("new_orders_lyon")
        .set_caching_options(False)
    )
    after_new_orders_berlin_task = (
        after_new_orders_berlin(
            new_orders_berlin_return_value=new_orders_berlin_task.outputs[
                "return_value"
            ],
            new_orders_berlin_not_skipped=new_orders_berlin_task.outputs["not_skipped"],
            snapshot_retention_days=snapshot_retention_days,
        )
        .set_display_name("after new_orders_berlin")
        .set_caching_options(False)
    )
    after_new_orders_lyon_task = (
        after_new_orders_lyon(
            new_orders_lyon_return_value=new_orders_lyon_task.outputs["return_value"],
            new_orders_lyon_not_skipped=new_orders_lyon_task.outputs["not_skipped"],
            snapshot_retention_days=snapshot_retention_days,
        )
        .set_display_name("after new_orders_lyon")
        .set_caching_options(False)
    )
    # Airflow: samples/repo_style/dags/orders_snapshot.py:52 audit (@task)
    audit_task = (
        audit(
            berlin=new_orders_berlin_task.outputs["return_value"],
            lyon=new_orders_lyon_task.outputs["return_value"],
        )
        .set_display_name("audit")
        .set_caching_options(False)
    )
    audit_task.ignore_upstream_failure()


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=orders_snapshot,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
