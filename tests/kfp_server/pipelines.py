"""Small real pipelines the server tests compile (no ``from __future__ import
annotations`` here: KFP reads the component annotations at decoration time)."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def add(a: int, b: int) -> int:
    return a + b


@dsl.component(base_image="python:3.11")
def show(x: int) -> str:
    print("value", x)
    return f"value={x}"


@dsl.component(base_image="python:3.11")
def explode(x: int) -> int:
    raise ValueError(f"cannot handle {x}")


@dsl.component(base_image="python:3.11")
def nap(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


@dsl.pipeline(name="tiny-sum", description="adds two numbers and shows the sum")
def tiny_sum(a: int = 1, b: int = 2) -> str:
    total = add(a=a, b=b)
    return show(x=total.output).output


@dsl.pipeline(name="tiny-fail")
def tiny_fail(a: int = 1) -> int:
    total = add(a=a, b=1)
    return explode(x=total.output).output


@dsl.pipeline(name="tiny-nap")
def tiny_nap(seconds: float = 30.0) -> float:
    return nap(seconds=seconds).output


@dsl.container_component
def echo() -> dsl.ContainerSpec:
    return dsl.ContainerSpec(image="alpine:3", command=["echo"], args=["hi"])


@dsl.pipeline(name="container-only")
def container_only() -> None:
    echo()


@dsl.pipeline(name="with-secret")
def with_secret() -> None:
    from kfp import kubernetes

    task = add(a=1, b=2)
    kubernetes.use_secret_as_env(task, secret_name="creds", secret_key_to_env={"token": "TOKEN"})


@dsl.container_component
def touch(path: str) -> dsl.ContainerSpec:
    """Run on this host instead of in its image, it would leave a file behind."""
    return dsl.ContainerSpec(image="alpine:3", command=["sh", "-c", 'touch "$0"'], args=[path])


@dsl.pipeline(name="mixed")
def mixed(marker: str = "/tmp/af2kfp-marker", a: int = 1) -> None:
    total = add(a=a, b=2)
    touch(path=marker).after(total)


@dsl.component(base_image="python:3.11")
def leave_mark(path: str) -> str:
    with open(path, "w") as handle:
        handle.write("this page ran code on your machine")
    return path


@dsl.pipeline(name="drive-by")
def drive_by(path: str = "/tmp/af2kfp-drive-by") -> str:
    """What a hostile web page would like the local server to run."""
    return leave_mark(path=path).output


@dsl.component(base_image="python:3.11")
def stamp(scheduled: str, created: str) -> str:
    return f"scheduled {scheduled} created {created}"


@dsl.pipeline(name="run-times")
def run_times() -> str:
    """Reads the run's scheduled and creation times, as a converted DAG dates its run."""
    return stamp(
        scheduled=dsl.PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER,
        created=dsl.PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER,
    ).output
