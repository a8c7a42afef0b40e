"""KFP v2 pipeline for the Airflow DAG inventory_supplier_contacts, converted by af2kfp.

Airflow source: samples/dags/inventory_reorder_classic.py:118
Compile: python pipeline.py (writes pipeline.yaml next to this file)
"""

from pathlib import Path

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def supplier_contacts(supplier: str) -> str:
    import json

    SUPPLIER_EMAILS = {"acme": "orders@acme.example", "globex": "supply@globex.example"}

    return json.dumps(SUPPLIER_EMAILS.get(supplier))


@dsl.pipeline(
    name="inventory-supplier-contacts",
    description="Converted from Airflow DAG inventory_supplier_contacts (samples/dags/inventory_reorder_classic.py:118).",
)
def inventory_supplier_contacts():
    # Airflow: samples/dags/inventory_reorder_classic.py:125 supplier_contacts (PythonOperator)
    supplier_contacts_task = (
        supplier_contacts(supplier="acme")
        .set_display_name("supplier_contacts")
        .set_caching_options(False)
    )


if __name__ == "__main__":
    compiler.Compiler().compile(
        pipeline_func=inventory_supplier_contacts,
        package_path=str(Path(__file__).with_name("pipeline.yaml")),
    )
