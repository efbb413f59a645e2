"""Data-parallel training on torch.distributed (torchrun; gloo on CPU, NCCL on GPU).

Initialise the process group as usual; `GAN.fit` and `GAN.step` then train the GAN as one
replica per process. Each step, all replicas draw the same global batch (batch_size x
processes items and latents) and take their own slice; the gradients of D and of G are
averaged with one all-reduce of each network's flat gradient buffer. Without a process
group nothing changes. Batch-norm running statistics stay per process (they are not
trained and do not affect the gradients); checkpoints, taken on rank 0, hold rank 0's.

    torch.distributed.init_process_group("gloo")     # under torchrun
    gan.fit(x, steps=1000, batch_size=64, out="runs/ck")   # only rank 0 writes
"""

from __future__ import annotations

import atexit
import os
from datetime import timedelta

import torch
import torch.distributed as dist

from .errors import DistributedError


def world() -> tuple[int, int]:
    """(rank, world size) of the initialised process group, or (0, 1) without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main_process() -> bool:
    """True on rank 0, or without a process group: the process that writes files."""
    return world()[0] == 0


def init_from_environment(device: str = "auto", timeout_s: float = 300.0) -> str:
    """When launched by torchrun with more than one process, initialises the process group
    (NCCL on GPUs, gloo otherwise). Returns the device this process should train on: with
    GPUs, ``"auto"`` and ``"cuda"`` become the process's own ``cuda:LOCAL_RANK``."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return device
    if device in ("auto", "cuda") and torch.cuda.is_available():
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        torch.cuda.set_device(torch.device(device))
    backend = "nccl" if device.startswith("cuda") else "gloo"
    dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
    atexit.register(_shut_down)
    return device


def _shut_down() -> None:
    # gloo's threads must stop before the interpreter exits, or C++ aborts the process.
    if dist.is_initialized():
        dist.destroy_process_group()


def attach(gan) -> None:
    """Makes `gan` a replica of the current process group (a no-op when it already is, or
    when there is none). Every replica must start from the same state."""
    rank, world_size = world()
    if getattr(gan, "_replica_of", (0, 1)) == (rank, world_size):
        return
    if world_size == 1:
        gan._core.clear_replica()
    else:
        _check_same_start(gan)

        def average(gradient: torch.Tensor) -> None:
            dist.all_reduce(gradient)
            gradient.div_(world_size)

        gan._core.set_replica(rank, world_size, average)
    gan._replica_of = (rank, world_size)


def _check_same_start(gan) -> None:
    fingerprint = (
        gan.config["seed"],
        gan.steps_done,
        float(sum(t.double().sum() for t in gan.generator_state_dict(ema=False).values())),
        float(sum(t.double().sum() for t in gan.discriminator_state_dict().values())),
    )
    everyone = [None] * world()[1]
    dist.all_gather_object(everyone, fingerprint)
    if any(other != everyone[0] for other in everyone):
        raise DistributedError(
            "the processes start from different GANs (seed, step, weights): "
            f"{everyone}; build it with the same seed or load the same checkpoint on every rank"
        )
