"""Finding codes of the analyzer (A1xx), registered once at import."""

from __future__ import annotations

from af2kfp.converters.findings import Severity, register_code

__all__ = [
    "UNPARSABLE",
    "UNREADABLE",
    "NO_DAG",
    "DUPLICATE_TASK_ID",
    "CYCLE",
    "UNKNOWN_DAG_ID",
    "UNKNOWN_DEPENDENCY",
    "UNKNOWN_TASK_ID",
    "UNKNOWN_LOOP",
    "UNKNOWN_CONDITION",
    "UNSUPPORTED_CONSTRUCT",
    "DETACHED",
    "LIMIT",
    "UNKNOWN_CALL",
    "INTERNAL",
    "EMPTY_FILE",
    "SUBDAG_FLATTENED",
    "SUBDAG_UNRESOLVED",
    "DECIDED_BY_CONDITION",
    "NEEDS_VALUE",
]

UNPARSABLE = register_code(
    "A101",
    Severity.ERROR,
    "File cannot be parsed",
    "The file is not valid Python 3 (syntax error, Python 2 code). Airflow cannot import it either; "
    "fix the syntax (e.g. run it through `python -m py_compile`) and convert again.",
).code
UNREADABLE = register_code(
    "A102",
    Severity.ERROR,
    "File cannot be read as UTF-8 text",
    "The file is binary, not UTF-8, or unreadable. Re-encode it as UTF-8 or exclude it from the scan.",
).code
NO_DAG = register_code(
    "A103",
    Severity.INFO,
    "No DAG found in an Airflow file",
    "The file imports Airflow but defines no DAG the analyzer could find. If it is a helper module this "
    "is expected; otherwise make sure the DAG is created at module level or by a factory called there.",
).code
DUPLICATE_TASK_ID = register_code(
    "A104",
    Severity.ERROR,
    "Duplicate task id in a DAG",
    "Airflow refuses a DAG with two tasks of the same id (DuplicateTaskIdFound). Rename one of them; "
    "the analyzer kept the first.",
).code
CYCLE = register_code(
    "A105",
    Severity.ERROR,
    "Dependency cycle",
    "Airflow refuses a DAG with a cycle. Remove one of the dependencies in the cycle.",
).code
UNKNOWN_DAG_ID = register_code(
    "A106",
    Severity.ERROR,
    "DAG id cannot be resolved statically",
    "Give the DAG a literal dag_id (or one built from module constants) so the pipeline can be named.",
).code
UNKNOWN_DEPENDENCY = register_code(
    "A107",
    Severity.WARNING,
    "Dependency on a value the analyzer cannot resolve",
    "The dependency names something that is not a task the analyzer knows (computed at run time or "
    "imported from outside the scanned folders). Express it with task variables defined in the scanned files.",
).code
UNKNOWN_TASK_ID = register_code(
    "A108",
    Severity.WARNING,
    "Task id cannot be resolved statically",
    "Build the task_id from literals or module constants so the KFP task can be named.",
).code
UNKNOWN_LOOP = register_code(
    "A109",
    Severity.WARNING,
    "Loop over a collection the analyzer cannot resolve",
    "Tasks created in this loop are missing from the graph. Loop over a literal list or module constant.",
).code
UNKNOWN_CONDITION = register_code(
    "A110",
    Severity.WARNING,
    "Condition the analyzer cannot resolve",
    "The tasks of both branches are kept, so the graph may hold tasks Airflow would not create; a value the "
    "condition decides takes the branch where it holds, and each task built from it has finding A120. Supply "
    "what the condition reads (--variables, --connections, --env), make it depend on literals or os.environ "
    "defaults, or review the converted pipeline.",
).code
UNSUPPORTED_CONSTRUCT = register_code(
    "A111",
    Severity.WARNING,
    "Construct the analyzer does not follow",
    "The graph may miss tasks or dependencies built by this construct; review the converted pipeline.",
).code
DETACHED = register_code(
    "A112",
    Severity.INFO,
    "Task or DAG Airflow would not load",
    "The object is never attached to a DAG (task) or never reachable at module level (DAG), so Airflow "
    "ignores it; attach it or remove it.",
).code
LIMIT = register_code(
    "A113",
    Severity.WARNING,
    "Evaluation limit reached",
    "The analyzer stops unrolling loops and recursion past a fixed budget; the graph may be incomplete.",
).code
UNKNOWN_CALL = register_code(
    "A114",
    Severity.WARNING,
    "Call the analyzer cannot follow where tasks are expected",
    "A function whose code is outside the scanned folders (or dynamic) is used as a task. Scan the folder "
    "that holds the helper module too, or create the task in the DAG file.",
).code
INTERNAL = register_code(
    "A115",
    Severity.ERROR,
    "The analyzer failed on this file",
    "An analyzer bug stopped the analysis of this file at the given line; the DAGs found before it are kept. "
    "Please report the file (or a reduced copy) to the af2kfp maintainers.",
).code
EMPTY_FILE = register_code(
    "A116",
    Severity.INFO,
    "Empty file",
    "The file holds no code, so no DAG. Remove it from the DAG folder or add the DAG it was meant to hold.",
).code
SUBDAG_FLATTENED = register_code(
    "A117",
    Severity.INFO,
    "SubDAG flattened into a task group",
    "KFP has no nested DAG runs, and Airflow 3 removed SubDagOperator (deprecated since 2.0): the operator's "
    "task is replaced by the sub-DAG's tasks, ids prefixed with the operator's task_id as a TaskGroup would, "
    "each with the sub-DAG's own default_args, its params added to the pipeline's; the operator's upstream tasks "
    "lead to the sub-DAG's first tasks and its last tasks to the operator's downstream ones. The sub-DAG is no "
    "pipeline of its own. In Airflow, "
    "replace the SubDagOperator with `with TaskGroup(\"<task_id>\"):` around the factory's tasks: the task ids "
    "then equal the converted pipeline's.",
).code
SUBDAG_UNRESOLVED = register_code(
    "A118",
    Severity.WARNING,
    "SubDAG cannot be resolved statically",
    "The `subdag` argument is not a DAG the analyzer can build (its factory is outside the scanned files, or it "
    "depends on run-time values), so the SubDagOperator stays one task, converted as an operator without a "
    "mapping. Build the sub-DAG with a factory in the scanned files that returns `DAG(...)`, or replace the "
    "SubDagOperator with a TaskGroup.",
).code
DECIDED_BY_CONDITION = register_code(
    "A120",
    Severity.WARNING,
    "Argument decided by a condition not known at conversion",
    "An `if` the analyzer cannot decide set this argument; the branch where the condition holds was kept, which "
    "Airflow may not take. Supply what the condition reads (an Airflow Variable with --variables FILE, an "
    "environment variable with --env KEY=VALUE) so it is decided, or check the converted task by hand.",
).code
NEEDS_VALUE = register_code(
    "A121",
    Severity.ERROR,
    "Value needed at conversion is only known when Airflow parses the DAG",
    "A task id, DAG id, group id or loop depends on an Airflow Variable, Connection or environment variable "
    "that was not supplied; KFP needs it when the pipeline is compiled. Supply it: --variables FILE (as "
    "`airflow variables export` writes), --connections FILE, --env KEY=VALUE or --env-file FILE.",
).code
