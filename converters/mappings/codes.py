"""Finding codes of the mapping rules (``M2xx``): declared once, used by every rule."""

from __future__ import annotations

from af2kfp.converters.findings import Severity, register_code

__all__ = [
    "UNSUPPORTED_OPERATOR",
    "ARGUMENT_DROPPED",
    "ARGUMENT_IGNORED",
    "JINJA_TEMPLATE",
    "UNRESOLVED_VALUE",
    "PRIVATE_ENVIRONMENT",
    "SECRET_REQUIRED",
    "MOUNT_UNSUPPORTED",
    "AFFINITY_UNSUPPORTED",
    "AIRFLOW_CONTEXT",
    "CALLABLE_UNAVAILABLE",
    "MODULE_NAME_USED",
    "XCOM_UNAVAILABLE",
    "INVALID_RESOURCE",
    "FOLDED_TRIGGER_RULE",
    "USER_OPERATOR",
    "RETRY_SEMANTICS",
    "THIRD_PARTY_IMPORT",
    "UNKNOWN_RULE",
    "AIRFLOW_IN_TASK",
    "DYNAMIC_MAPPING",
    "CYCLE_EDGE_DROPPED",
    "FALLBACK_OPERATOR",
    "SENSOR_SKIPPED",
    "SECRET_ENV_VALUE",
    "TRIGGER_RULE_MAPPED",
    "TRIGGER_RULE_DIFFERS",
    "BRANCH_TARGET_UNKNOWN",
    "OUTPUT_UNDER_CONDITION",
    "NEVER_RUNS",
    "CONDITION_APPROXIMATED",
    "INHERITED_RULE",
    "OVERRIDES_RUN",
    "RUN_GUARD",
    "RUN_NEVER",
    "NEEDS_CONSTANT",
    "FALLBACK_PARAMETER",
    "SECRET_FILE_ENV",
    "IMPORT_UNKNOWN",
    "IMPORT_LOCAL",
    "XCOM_KEY_NOT_PUSHED",
    "XCOM_AS_TEXT",
    "PROVIDER_NOT_IN_IMAGE",
    "NOT_AS_IN_AIRFLOW",
    "OPERATOR_REPLACED",
]

UNSUPPORTED_OPERATOR = register_code(
    "M201", Severity.ERROR, "Operator has no KFP mapping",
    "The task became a placeholder component that fails when run, so the pipeline keeps its shape.",
).code
ARGUMENT_DROPPED = register_code(
    "M202", Severity.WARNING, "Argument with behaviour is not mapped",
    "The argument changes what the task does but KFP has no equivalent; the pipeline behaves differently.",
).code
ARGUMENT_IGNORED = register_code(
    "M203", Severity.INFO, "Argument has no meaning in KFP",
    "The argument only concerns Airflow's scheduler or the Docker daemon; it is dropped.",
).code
JINJA_TEMPLATE = register_code(
    "M204", Severity.WARNING, "Jinja template kept verbatim",
    "KFP does not render Jinja; the string is kept as written and must be replaced by a pipeline parameter.",
).code
UNRESOLVED_VALUE = register_code(
    "M205", Severity.WARNING, "Value unknown without running the DAG",
    "The analyzer could not evaluate the expression statically; its source text is used instead.",
).code
PRIVATE_ENVIRONMENT = register_code(
    "M206", Severity.WARNING, "Private environment becomes a Kubernetes Secret",
    "Values of private_environment are never written out; create the named Secret before running.",
).code
SECRET_REQUIRED = register_code(
    "M207", Severity.INFO, "Kubernetes Secret must exist",
    "The task reads a Kubernetes Secret; it must exist in the namespace the pipeline runs in.",
).code
MOUNT_UNSUPPORTED = register_code(
    "M208", Severity.WARNING, "Mount or volume cannot be mapped",
    "Host bind mounts and Docker named volumes do not exist in Kubernetes; use a PVC instead.",
).code
AFFINITY_UNSUPPORTED = register_code(
    "M209", Severity.WARNING, "Affinity rule cannot be mapped",
    "kfp-kubernetes supports node affinity only; pod (anti-)affinity is dropped.",
).code
AIRFLOW_CONTEXT = register_code(
    "M210", Severity.WARNING, "Python callable uses the Airflow context",
    "KFP has no Airflow context; pass the values it reads as pipeline parameters.",
).code
CALLABLE_UNAVAILABLE = register_code(
    "M211", Severity.ERROR, "Python callable source not available",
    "The callable's source could not be found statically, so no component can be built from it.",
).code
MODULE_NAME_USED = register_code(
    "M212", Severity.WARNING, "Python callable uses a module-level name",
    "A lightweight component only contains its own function; move the name inside the function.",
).code
XCOM_UNAVAILABLE = register_code(
    "M213", Severity.WARNING, "XCom value not available in KFP",
    "Only Python components have outputs here; the value must be passed another way.",
).code
INVALID_RESOURCE = register_code(
    "M214", Severity.WARNING, "Resource value not understood",
    "KFP accepts CPU like '500m'/'2' and memory like '512M'/'2Gi'; the value was dropped.",
).code
FOLDED_TRIGGER_RULE = register_code(
    "M215", Severity.WARNING, "Folded task had a trigger rule",
    "The empty task was folded into the edges, which drops its trigger rule.",
).code
USER_OPERATOR = register_code(
    "M216", Severity.INFO, "User operator mapped through config",
    "[tool.af2kfp.operators] maps this class to a built-in rule; arguments the subclass adds are not known.",
).code
RETRY_SEMANTICS = register_code(
    "M217", Severity.INFO, "Retry backoff differs",
    "Airflow's max_retry_delay caps each delay; KFP's backoff_max_duration caps the total retry time.",
).code
THIRD_PARTY_IMPORT = register_code(
    "M218", Severity.INFO, "Python callable imports third-party modules",
    "The component installs their distributions (packages_to_install) each time it starts, unpinned unless "
    "[tool.af2kfp.packages] pins them; bake them into python_base_image to start faster.",
).code
UNKNOWN_RULE = register_code(
    "M220", Severity.ERROR, "Config names an unknown rule",
    "[tool.af2kfp.operators] must map a class to a built-in rule name.",
).code
AIRFLOW_IN_TASK = register_code(
    "M221", Severity.WARNING, "Python callable uses Airflow at run time",
    "The component's image has no Airflow; replace Variable/Connection/hook use by parameters or secrets.",
).code
DYNAMIC_MAPPING = register_code(
    "M222", Severity.WARNING, "Dynamic task mapping not converted",
    "The task was converted once with its partial() arguments: its items are not known statically. Expand over "
    "a literal list or a Python task's list return value to get a dsl.ParallelFor.",
).code
CYCLE_EDGE_DROPPED = register_code(
    "M224", Severity.ERROR, "Dependency closes a cycle",
    "Airflow refuses cyclic DAGs and KFP cannot run them; this dependency was left out of the pipeline.",
).code
FALLBACK_OPERATOR = register_code(
    "M225", Severity.INFO, "Original operator runs in an Airflow image",
    "The task runs the Airflow operator itself in Config.airflow_image, through the runner af2kfp writes beside "
    "pipeline.py (it needs only Python and Airflow): the operator's provider is installed there, and each "
    "connection it reads comes from a Kubernetes Secret (M207).",
).code
SENSOR_SKIPPED = register_code(
    "M226", Severity.WARNING, "Sensor skipped",
    "sensors = \"skip\" folds sensors into the edges: the pipeline no longer waits for what the sensor waited for.",
).code

# What keeps a task run by the fallback from behaving as in Airflow (af2kfp.converters.mappings.fallback): M256–M259.
PROVIDER_NOT_IN_IMAGE = register_code(
    "M256", Severity.WARNING, "Operator's provider is not known to be in the Airflow image",
    "The KFP task runs the operator in Config.airflow_image, which does not have (or af2kfp does not know it has) "
    "the package the class comes from. Build an image FROM the official apache/airflow image with that package "
    "installed, set airflow_image to it and list the provider in airflow_image_providers ([tool.af2kfp]).",
).code
NOT_AS_IN_AIRFLOW = register_code(
    "M257", Severity.WARNING, "Original operator would not behave as in Airflow",
    "The operator needs something of Airflow that a KFP task does not have (the metadata database, the triggerer, "
    "other tasks' XComs, Variables, a template file beside the DAG); the message says what and what to change.",
).code
OPERATOR_REPLACED = register_code(
    "M258", Severity.INFO, "Operator runs as its current replacement",
    "The class's import path is gone from today's Airflow and providers (Airflow 1.10 or an old provider); the "
    "task runs the class Airflow names as its replacement, with the arguments renamed as the message says.",
).code

# Control flow (af2kfp.converters.mappings.control / af2kfp.converters.mappings.branch): M250–M259.
TRIGGER_RULE_MAPPED = register_code(
    "M250", Severity.INFO, "Trigger rule mapped",
    "all_done/always run with .ignore_upstream_failure(); a teardown that ends the DAG runs as the "
    "dsl.ExitHandler exit task; a join after a branch runs after the branch's tasks, taken or not.",
).code
TRIGGER_RULE_DIFFERS = register_code(
    "M251", Severity.WARNING, "Trigger rule has no exact KFP equivalent",
    "KFP runs a task when all its upstream tasks succeeded, or with .ignore_upstream_failure() when they "
    "finished; check the behaviour difference the message states, or check the upstream status in a "
    "dsl.ExitHandler exit task with a dsl.PipelineTaskFinalStatus input.",
).code
BRANCH_TARGET_UNKNOWN = register_code(
    "M252", Severity.WARNING, "Branch returns a task id that is not directly downstream",
    "Airflow fails the branch task when it returns a task id that is not directly downstream; make the "
    "callable return one of the downstream task ids.",
).code
OUTPUT_UNDER_CONDITION = register_code(
    "M253", Severity.WARNING, "Reads the output of a task that may not run",
    "KFP forbids reading outputs from inside a dsl.If block outside it; the task gets an empty value of the "
    "parameter's type instead (Airflow gives None when the producer was skipped). Pass the value with dsl.OneOf "
    "over an If/Elif/Else whose every arm produces it.",
).code
NEVER_RUNS = register_code(
    "M254", Severity.WARNING, "Task never runs in Airflow",
    "Its upstream tasks sit on branch arms that exclude each other and its trigger rule needs all of them; "
    "Airflow always skips it, KFP runs it after the branch. Give it a trigger rule such as "
    "none_failed_min_one_success if it should run, or remove it.",
).code
CONDITION_APPROXIMATED = register_code(
    "M255", Severity.WARNING, "Condition cannot be expressed exactly",
    "KFP conditions compare one output with one value, and only where the deciding task ran: when Airflow runs "
    "the task after any of several arms, it runs after the branch whichever arm ran; when Airflow would run it "
    "although the deciding task was skipped, it runs only where that task ran. Check the arms it depends on.",
).code
SECRET_ENV_VALUE = register_code(
    "M246", Severity.WARNING, "Secret-looking environment value moved to a Kubernetes Secret",
    "The variable's name says it holds a secret, so its literal value is not written: the task reads it from "
    "the DAG's Kubernetes Secret <dag-id>-env; create that Secret before running and take the value out of the DAG.",
).code

# The repository's own operators and values supplied at conversion: M280–M289.
INHERITED_RULE = register_code(
    "M280", Severity.INFO, "Repository operator mapped with its parent's rule",
    "The class derives from an operator af2kfp maps, so it takes that rule with the arguments its __init__ "
    "passes to super().__init__() (its defaults included). Map it in [tool.af2kfp.operators] to choose "
    "another rule, e.g. \"fallback\" to run the class itself in an Airflow image that has it.",
).code
OVERRIDES_RUN = register_code(
    "M281", Severity.WARNING, "Repository operator overrides how it runs",
    "The class overrides a method Airflow calls to run the task (execute, pre_execute, build_pod_request_obj...); "
    "the KFP task runs what the constructor arguments describe, without that code. Check what the override "
    "does, or map the class to \"fallback\" in [tool.af2kfp.operators] to run it as it is.",
).code
NEEDS_CONSTANT = register_code(
    "M282", Severity.ERROR, "Setting KFP needs at compile time depends on a value not supplied",
    "An image, pull policy or similar setting reads an Airflow Variable, Connection or environment variable "
    "that Airflow knows and the conversion does not; KFP cannot take it as a run-time parameter. Supply it: "
    "--variables FILE (as `airflow variables export` writes), --connections FILE, --env KEY=VALUE.",
).code
FALLBACK_PARAMETER = register_code(
    "M283", Severity.WARNING, "Argument of the original operator passed as a pipeline parameter",
    "The argument is not known at conversion, so the fallback task takes it from a pipeline parameter at run "
    "time: supply its value when you start the run (or at conversion: --variables, --env), in the type the "
    "message says (JSON text for lists and dicts).",
).code
RUN_GUARD = register_code(
    "M284", Severity.WARNING, "Repository operator skips or fails the task on a condition not known at conversion",
    "The class's execute (or pre_execute) raises AirflowSkipException, AirflowFailException... or returns before "
    "calling the parent's, when a condition holds that depends on a value the conversion does not know (a Variable "
    "not supplied, a value Airflow renders when the task runs). The KFP task always runs. Supply the value "
    "(--variables, --env) so the condition is decided, or put the task under a dsl.If on a pipeline parameter.",
).code
RUN_NEVER = register_code(
    "M285", Severity.WARNING, "Airflow never runs this task: its operator skips or fails it",
    "With the arguments this task is given, the class's execute (or pre_execute) raises before calling the "
    "parent's (e.g. AirflowSkipException for skip=True), so Airflow skips or fails the task every time; the KFP "
    "task would run it. Drop the task from the pipeline, or change the argument that skips it.",
).code
SECRET_FILE_ENV = register_code(
    "M293", Severity.INFO, "Credential file path kept as an environment variable",
    "The variable's name says secret but its value is a file path, which is not a secret: it stays an environment "
    "variable. The file must exist in the container: mount the Kubernetes Secret that holds it at that folder "
    "(kfp.kubernetes.use_secret_as_volume; a pod's secret volumes are mapped so).",
).code
# Values and imports of Python tasks (af2kfp.converters.mappings.pyfunc, .returns, .packages): M260–M269.
IMPORT_UNKNOWN = register_code(
    "M260", Severity.WARNING, "Import not known to be installable",
    "The callable imports a module that is neither in the standard library nor in af2kfp's package table: name "
    "its pip distribution in [tool.af2kfp.packages] (module = \"distribution\"), or module = false when "
    "python_base_image provides it.",
).code
IMPORT_LOCAL = register_code(
    "M261", Severity.WARNING, "Import from the repository",
    "The callable imports a module of the scanned repository, which a lightweight component does not carry: "
    "install it in python_base_image and declare it in [tool.af2kfp.packages] (module = false), or move what the "
    "task needs into the callable.",
).code
XCOM_KEY_NOT_PUSHED = register_code(
    "M262", Severity.WARNING, "Reads an XCom key the producer does not push",
    "Airflow pushes each key of a returned dict as its own XCom only with multiple_outputs=True (or a TaskFlow "
    "function annotated -> dict): set it on the producer, or read the whole value and index it in the consumer.",
).code
XCOM_AS_TEXT = register_code(
    "M263", Severity.WARNING, "JSON value rendered as text",
    "The value travels as JSON text, and this task reads it as a string (a container argument or a Jinja "
    "template), where Airflow renders str(value): strings arrive quoted and dicts as JSON. Annotate the "
    "producer's return (-> str) or return a string.",
).code
