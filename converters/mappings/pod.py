"""Kubernetes pod settings as Airflow's KubernetesPodOperator spells them, mapped to kfp-kubernetes.

Shared by the KubernetesPodOperator family and ``@task.kubernetes``. Each helper reads
its arguments from the context (marking them used) and fills the :class:`KfpTask`.
"""

from __future__ import annotations

import re
from typing import Any

from af2kfp.converters.mappings import codes
from af2kfp.converters.mappings.context import MapContext
from af2kfp.converters.mappings.model import ConfigMapEnv, KfpTask, NodeAffinity, SecretEnv, SecretVolume, Toleration, Volume
from af2kfp.converters.mappings.values import (
    check_templates, class_name, env_dict, is_plain, items, model, set_env, string_dict, text, unexpected,
)
from af2kfp.converters.templating import has_template
from af2kfp.converters.values import Call, TaskRef

__all__ = ["apply_pod", "set_cpu", "set_memory", "POD_IGNORED", "POD_MAPPED_ARGS", "POD_FLAGGED_ARGS"]

_CPU = re.compile(r"^([0-9]*[.])?[0-9]+m?$")
_MEMORY = re.compile(r"^[0-9]+(E|Ei|P|Pi|T|Ti|G|Gi|M|Mi|K|Ki)?$")
_GPU_KEYS = ("nvidia.com/gpu", "amd.com/gpu", "cloud-tpus.google.com/v2", "cloud-tpus.google.com/v3")

# Pod-launch plumbing that KFP's own launcher replaces: dropped with an info finding.
POD_IGNORED = frozenset({
    "name", "random_name_suffix", "namespace", "in_cluster", "cluster_context", "config_file",
    "kubernetes_conn_id", "get_logs", "log_events_on_failure", "is_delete_operator_pod",
    "on_finish_action", "startup_timeout_seconds", "startup_check_interval_seconds",
    "poll_interval", "reattach_on_restart", "deferrable", "container_logs", "base_container_name",
    "log_pod_spec_on_failure", "termination_message_policy", "active_deadline_seconds",
    "project_id", "location", "cluster_name", "gcp_conn_id", "use_internal_ip", "use_dns_endpoint",
    "regional", "impersonation_chain", "labels_from_dag", "callbacks", "progress_callback",
})
# What apply_pod maps and flags, for the coverage page (docs/operators.md).
POD_MAPPED_ARGS = (
    "env_vars -> set_env_variable (secret-looking literals -> use_secret_as_env, M246; from a Secret key, a "
    "ConfigMap key or a pod field -> use_secret_as_env, use_config_map_as_env, use_field_path_as_env)",
    "secrets -> use_secret_as_env / use_secret_as_volume",
    "container_resources -> set_cpu/memory_request/limit, set_accelerator_type/limit",
    "node_selector -> add_node_selector", "tolerations -> add_toleration", "affinity (node) -> add_node_affinity",
    "labels -> add_pod_label", "annotations -> add_pod_annotation", "image_pull_secrets -> set_image_pull_secrets",
    "image_pull_policy -> set_image_pull_policy", "volumes + volume_mounts (PVC, ConfigMap, emptyDir) -> mount_pvc, "
    "use_config_map_as_volume, empty_dir_mount",
)
POD_FLAGGED_ARGS = ("env_vars from a container's resource field", "affinity (pod affinity/anti-affinity)",
                    "volumes of other kinds (hostPath, NFS...)", "invalid resource quantities")


def set_cpu(ctx: MapContext, kfp: KfpTask, value: Any, which: str) -> None:
    """``set_cpu_request``/``set_cpu_limit`` when the value is a CPU quantity KFP accepts."""
    cpu = text(ctx, value, f"cpu {which}")
    if isinstance(cpu, str) and _CPU.match(cpu):
        setattr(kfp, f"cpu_{which}", cpu)
    else:
        ctx.add(codes.INVALID_RESOURCE, f"cpu {which} {value!r} is not a CPU quantity KFP accepts; dropped")


def set_memory(ctx: MapContext, kfp: KfpTask, value: Any, which: str, docker_units: bool = False) -> None:
    """``set_memory_request``/``set_memory_limit``; Docker's binary ``2g``/``512m`` become ``2Gi``/``512Mi``."""
    memory = text(ctx, value, f"memory {which}")
    if docker_units and isinstance(memory, str) and re.match(r"^[0-9]+[kmgtKMGT]b?$", memory):
        memory = memory.rstrip("bB")[:-1] + memory.rstrip("bB")[-1].upper() + "i"
    if isinstance(memory, str) and _MEMORY.match(memory):
        setattr(kfp, f"memory_{which}", memory)
    else:
        ctx.add(codes.INVALID_RESOURCE, f"memory {which} {value!r} is not a memory quantity KFP accepts; dropped")


def _resources(ctx: MapContext, kfp: KfpTask) -> None:
    resources = model(ctx, ctx.arg("container_resources"), "container_resources")
    if resources is None:
        return
    if not isinstance(resources, dict):
        unexpected(ctx, resources, "container_resources")
        return
    for which, key in (("request", "requests"), ("limit", "limits")):
        quantities = resources.get(key) or {}
        if not isinstance(quantities, dict):
            unexpected(ctx, quantities, f"container_resources.{key}")
            continue
        for name, value in quantities.items():
            if name == "cpu":
                set_cpu(ctx, kfp, value, which)
            elif name == "memory":
                set_memory(ctx, kfp, value, which)
            elif name in _GPU_KEYS and which == "limit":
                kfp.accelerator_type = name
                kfp.accelerator_limit = text(ctx, value, name)
            elif name in _GPU_KEYS:
                continue  # Kubernetes requires GPU requests == limits; the limit carries it.
            else:
                ctx.add(codes.INVALID_RESOURCE, f"resource {name!r} ({key}) has no KFP setting; dropped")


def _env(ctx: MapContext, kfp: KfpTask) -> None:
    env_vars = ctx.arg("env_vars")
    if isinstance(env_vars, (dict, TaskRef)):  # a TaskRef: the whole dict from another task (env_xcom)
        env_dict(ctx, kfp, env_vars, "env_vars")
        return
    for item in items(ctx, env_vars, "env_vars"):
        entry = model(ctx, item, "env_vars item")
        if not isinstance(entry, dict) or "name" not in entry:
            unexpected(ctx, item, "env_vars item")
            continue
        name = str(entry["name"])
        source = entry.get("value_from")
        if source is None:
            set_env(ctx, kfp, name, entry.get("value", ""), f"env_vars[{name}]")
            continue
        source = source if isinstance(source, dict) else {}
        secret_ref, config_ref, field_ref = (source.get(k) for k in ("secret_key_ref", "config_map_key_ref", "field_ref"))
        if isinstance(secret_ref, dict) and "name" in secret_ref and "key" in secret_ref:
            kfp.secret_env.append(SecretEnv(secret_name=str(secret_ref["name"]), key_to_env={str(secret_ref["key"]): name}))
            ctx.add(codes.SECRET_REQUIRED, f"env {name} reads Secret {secret_ref['name']!r}, key {secret_ref['key']!r}")
        elif isinstance(config_ref, dict) and all(isinstance(config_ref.get(k), str) for k in ("name", "key")):
            _config_map_env(kfp, config_ref["name"], config_ref["key"], name, config_ref.get("optional") is True)
        elif isinstance(field_ref, dict) and isinstance(field_ref.get("field_path"), str):
            kfp.field_env[name] = field_ref["field_path"]
        else:
            ctx.add(codes.ARGUMENT_DROPPED, f"env {name} is read from {sorted(source)}; not mapped",
                    "Set it by hand on the KFP task (a resource field has no kfp-kubernetes setting).")


def _config_map_env(kfp: KfpTask, config_map: str, key: str, env: str, optional: bool) -> None:
    """``use_config_map_as_env``: one call per ConfigMap, its keys together."""
    for i, existing in enumerate(kfp.config_map_env):
        if existing.config_map_name == config_map and existing.optional == optional:
            kfp.config_map_env[i] = ConfigMapEnv(config_map_name=config_map, key_to_env={**existing.key_to_env, key: env},
                                                 optional=optional)
            return
    kfp.config_map_env.append(ConfigMapEnv(config_map_name=config_map, key_to_env={key: env}, optional=optional))


def _secret(ctx: MapContext, kfp: KfpTask, item: Any) -> None:
    if class_name(item) != "Secret" or not isinstance(item, Call):
        unexpected(ctx, item, "secrets item")
        return
    names = ("deploy_type", "deploy_target", "secret", "key")
    fields = dict(zip(names, item.args))
    fields.update({k: v for k, v in item.kwargs.items() if k in names or k == "items"})
    deploy_type, target, secret, key = (fields.get(n) for n in names)
    if not all(isinstance(v, str) for v in (deploy_type, secret)) or not isinstance(target, (str, type(None))):
        ctx.add(codes.UNRESOLVED_VALUE, "a Secret(...) whose fields are not known statically; dropped")
        return
    if deploy_type == "env" and isinstance(key, str) and target:
        kfp.secret_env.append(SecretEnv(secret_name=secret, key_to_env={key: target}))
    elif deploy_type == "volume" and target:
        kfp.secret_volumes.append(SecretVolume(secret_name=secret, mount_path=target))
    else:
        ctx.add(codes.ARGUMENT_DROPPED, f"Secret {secret!r} exposed as {deploy_type} without a key/target; not mapped",
                "List the keys: kfp.kubernetes.use_secret_as_env(task, secret_name, {key: ENV}).")
        return
    ctx.add(codes.SECRET_REQUIRED, f"the task reads Kubernetes Secret {secret!r}")


def _tolerations(ctx: MapContext, kfp: KfpTask) -> None:
    for item in items(ctx, ctx.arg("tolerations"), "tolerations"):
        entry = model(ctx, item, "tolerations item")
        if not isinstance(entry, dict):
            unexpected(ctx, item, "tolerations item")
            continue
        fields = {name: entry.get(name) for name in ("key", "operator", "value", "effect")}
        if not all(v is None or isinstance(v, str) for v in fields.values()):
            ctx.add(codes.UNRESOLVED_VALUE, "a toleration whose fields are not known statically; dropped")
            continue
        seconds = entry.get("toleration_seconds")
        kfp.tolerations.append(Toleration(**fields, toleration_seconds=seconds if isinstance(seconds, int) else None))


def _term(term: Any, weight: int | None) -> NodeAffinity | None:
    if not isinstance(term, dict):
        return None
    exprs, fields = term.get("match_expressions") or [], term.get("match_fields") or []
    if not isinstance(exprs, list) or not isinstance(fields, list):
        return None
    keep = ("key", "operator", "values")
    if not all(is_plain(e) for e in exprs + fields):
        return None
    return NodeAffinity(
        match_expressions=[{k: e[k] for k in keep if k in e} for e in exprs if isinstance(e, dict)],
        match_fields=[{k: e[k] for k in keep if k in e} for e in fields if isinstance(e, dict)],
        weight=weight,
    )


def _affinity(ctx: MapContext, kfp: KfpTask) -> None:
    raw = ctx.arg("affinity")
    affinity = model(ctx, raw, "affinity")
    if raw is None or affinity == {}:
        return
    if not isinstance(affinity, dict):
        unexpected(ctx, affinity, "affinity")
        return
    for key in sorted(set(affinity) - {"node_affinity", "pod_affinity", "pod_anti_affinity"}):
        unexpected(ctx, affinity[key], f"affinity.{key}")
    for other in ("pod_affinity", "pod_anti_affinity"):
        if affinity.get(other):
            ctx.add(codes.AFFINITY_UNSUPPORTED, f"affinity.{other} is not supported by kfp-kubernetes; dropped")
    node = affinity.get("node_affinity") or {}
    required = (node.get("required_during_scheduling_ignored_during_execution") or {}) if isinstance(node, dict) else {}
    terms = [(t, None) for t in (required.get("node_selector_terms") or [])] if isinstance(required, dict) else []
    for preferred in node.get("preferred_during_scheduling_ignored_during_execution") or [] if isinstance(node, dict) else []:
        if isinstance(preferred, dict):
            terms.append((preferred.get("preference"), preferred.get("weight")))
    for term, weight in terms:
        mapped = _term(term, weight if isinstance(weight, int) else None)
        if mapped is None:
            ctx.add(codes.AFFINITY_UNSUPPORTED, "a node affinity term is not known statically; dropped")
        else:
            kfp.node_affinity.append(mapped)


def _pull_secrets(ctx: MapContext, kfp: KfpTask) -> None:
    value = ctx.arg("image_pull_secrets")
    if isinstance(value, str):
        kfp.image_pull_secrets = [name.strip() for name in value.split(",") if name.strip()]
        return
    for item in items(ctx, value, "image_pull_secrets"):
        entry = model(ctx, item, "image_pull_secrets item")
        name = entry.get("name") if isinstance(entry, dict) else entry
        if isinstance(name, str):
            kfp.image_pull_secrets.append(name)
        else:
            unexpected(ctx, item, "image_pull_secrets item")


def _volumes(ctx: MapContext, kfp: KfpTask) -> None:
    volumes = {}
    for item in items(ctx, ctx.arg("volumes"), "volumes"):
        entry = model(ctx, item, "volumes item")
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            volumes[entry["name"]] = entry
        else:
            unexpected(ctx, item, "volumes item")
    for item in items(ctx, ctx.arg("volume_mounts"), "volume_mounts"):
        mount = model(ctx, item, "volume_mounts item")
        if not isinstance(mount, dict) or not isinstance(mount.get("mount_path"), str):
            unexpected(ctx, item, "volume_mounts item")
            continue
        name, path, sub = mount.get("name"), mount["mount_path"], mount.get("sub_path") or ""
        volume = volumes.get(name)
        if volume is None:
            ctx.add(codes.MOUNT_UNSUPPORTED, f"volume mount {name!r} names no known volume; dropped")
        elif isinstance(volume.get("persistent_volume_claim"), dict):
            claim = volume["persistent_volume_claim"].get("claim_name")
            kfp.volumes.append(Volume(kind="pvc", name=str(claim), mount_path=path, sub_path=str(sub)))
        elif isinstance(volume.get("config_map"), dict):
            kfp.volumes.append(Volume(kind="config_map", name=str(volume["config_map"].get("name")), mount_path=path))
        elif "empty_dir" in volume:
            empty = volume.get("empty_dir") or {}
            kfp.volumes.append(
                Volume(kind="empty_dir", name=str(name), mount_path=path,
                       medium=empty.get("medium"), size_limit=empty.get("size_limit"))
            )
        elif isinstance(volume.get("secret"), dict):
            kfp.secret_volumes.append(SecretVolume(secret_name=str(volume["secret"].get("secret_name")), mount_path=path))
            ctx.add(codes.SECRET_REQUIRED, f"the task mounts Kubernetes Secret {volume['secret'].get('secret_name')!r}")
        else:
            kinds = sorted(k for k in volume if k != "name")
            ctx.add(codes.MOUNT_UNSUPPORTED, f"volume {name!r} of type {kinds} has no kfp-kubernetes mapping; dropped")


_SECURITY = ("run_as_user", "run_as_group", "run_as_non_root")


def _security(ctx: MapContext, kfp: KfpTask) -> None:
    for name in ("security_context", "container_security_context"):
        raw = ctx.arg(name)
        context = model(ctx, raw, name)
        if raw is None or context == {}:
            continue
        if not isinstance(context, dict):
            unexpected(ctx, context, name)
            continue
        for key in _SECURITY:
            value = context.get(key)
            if isinstance(value, bool) if key == "run_as_non_root" else isinstance(value, int) and not isinstance(value, bool):
                kfp.security[key] = value
        rest = sorted(set(context) - set(_SECURITY))
        if rest:
            ctx.add(codes.ARGUMENT_DROPPED, f"{name} fields {rest} have no kfp-kubernetes setting; dropped",
                    "KFP enforces its own defaults (no privilege escalation, all capabilities dropped).")


def apply_pod(ctx: MapContext, kfp: KfpTask) -> None:
    """Everything pod-level: env, secrets, resources, scheduling, metadata, volumes."""
    _env(ctx, kfp)
    for item in items(ctx, ctx.arg("secrets"), "secrets"):
        _secret(ctx, kfp, item)
    _resources(ctx, kfp)
    kfp.node_selector.update(string_dict(ctx, ctx.arg("node_selector") or ctx.arg("node_selectors"), "node_selector"))
    _tolerations(ctx, kfp)
    _affinity(ctx, kfp)
    kfp.labels.update(string_dict(ctx, ctx.arg("labels"), "labels"))
    kfp.annotations.update(string_dict(ctx, ctx.arg("annotations"), "annotations"))
    _pull_secrets(ctx, kfp)
    policy = ctx.arg("image_pull_policy")
    if isinstance(policy, str) and has_template(policy):
        check_templates(ctx, ["image_pull_policy"])  # KFP needs the policy when it compiles: not set
    elif isinstance(policy, str):
        kfp.image_pull_policy = policy
    elif policy is not None:
        unexpected(ctx, policy, "image_pull_policy")
    _volumes(ctx, kfp)
    _security(ctx, kfp)
