"""The options of each model (`rustgan.GAN`, `Translator`, `CycleGAN`) are defined once,
in Rust: the constructor, the command line and the docs agree with that definition, and
each fault raises one class."""

import argparse
import inspect
import re
from pathlib import Path
from typing import NamedTuple

import pytest
import rustgan
import torch
from rustgan import cli, cli_common, cli_cycle, cli_translate, cycle, translator
from rustgan.gan import OPTIONS

ROOT = Path(__file__).parents[1]
DOCS = "\n".join(path.read_text() for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


class Model(NamedTuple):
    cls: type
    options: dict
    command: str  # the command that trains it
    flags: dict  # that command's flags of options: destination -> options it sets
    not_flags: dict  # options without a flag -> where the command takes their values from
    data: tuple  # the command's flags naming small data
    resolved: tuple = ()  # options whose default the model replaces by a value it works out


MODELS = {
    "GAN": Model(rustgan.GAN, OPTIONS, "train", cli.GAN_FLAGS, cli.NOT_FLAGS, ("--data", "ring2d")),
    "Translator": Model(
        rustgan.Translator,
        translator.OPTIONS,
        "train-translate",
        cli_translate.TRANSLATOR_FLAGS,
        cli_translate.NOT_FLAGS,
        ("--task", "superres", "--data", "digits"),
    ),
    "CycleGAN": Model(
        rustgan.CycleGAN,
        cycle.OPTIONS,
        "train-cycle",
        cli_cycle.CYCLE_FLAGS,
        cli_cycle.NOT_FLAGS,
        ("--data-a", "digits", "--data-b", "digits"),
        resolved=("patch_layers",),  # 0 stores the depth it picks by image size
    ),
}


def as_config(value):
    """An option's value as a checkpoint's config stores it."""
    return list(value) if isinstance(value, tuple) else value


def subcommand(name: str) -> argparse.ArgumentParser:
    return cli.build_parser()._subparsers._group_actions[0].choices[name]


@pytest.mark.parametrize("model", MODELS.values(), ids=MODELS)
def test_constructor_signature_is_the_native_definition(model):
    parameters = inspect.signature(model.cls.__init__).parameters
    names = [name for name in parameters if name in model.options]
    positional = [name for name in names if parameters[name].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    keyword_only = [name for name in model.options if name not in positional]
    assert names == positional + keyword_only, "every option: positional ones first, the rest in the native order"
    assert set(parameters) - set(model.options) == {"self", "device"}
    for name, spec in model.options.items():
        assert parameters[name].default == spec.default, name
    config = model.cls(device="cpu").config
    assert set(config) == set(model.options)
    for name, spec in model.options.items():
        if name not in model.resolved:
            assert config[name] == as_config(spec.default), name


def test_cli_choices_and_defaults_come_from_the_native_definition():
    actions = {action.dest: action for action in subcommand("train")._actions}
    assert tuple(actions["loss"].choices) == OPTIONS["loss"].choices
    assert tuple(actions["precision"].choices) == OPTIONS["precision"].choices
    for kind in ("images", "vectors"):
        recommended = rustgan.recipe(kind)
        options, batch_size, steps = cli.training_settings(cli.build_parser().parse_args(["train"]), kind)
        assert (batch_size, steps) == (recommended.pop("batch_size"), recommended.pop("steps"))
        assert options == recommended, "no flag given: the recipe, and the GAN's own defaults beyond it"
        for name, value in recommended.items():
            flag = name if name in ("batch_size", "steps") else next(d for d, n in cli.GAN_FLAGS.items() if name in n)
            assert str(value) in actions[flag].help
    options, _, _ = cli.training_settings(
        cli.build_parser().parse_args(["train", "--lr", "0.01", "--pac", "3"]), "images"
    )
    assert options["lr_g"] == options["lr_d"] == 0.01 and options["pac"] == 3


@pytest.mark.parametrize("model", MODELS.values(), ids=MODELS)
def test_every_option_has_a_cli_flag_or_says_where_its_value_comes_from(model):
    assert set(model.not_flags) <= set(model.options), "no stale entries"
    actions = {action.dest: action for action in subcommand(model.command)._actions}
    for name, spec in model.options.items():
        if name in model.not_flags:
            assert name not in actions and model.not_flags[name], name
            continue
        assert name in actions, f"{model.command} has no flag for {name}, nor says where its value comes from"
        assert model.flags[name] == (name,), name
        action = actions[name]
        assert action.default is None, f"{name}: a flag not given leaves the value to the model"
        assert spec.doc.split(" (")[0] in action.help, name
        if spec.kind == "choice":
            assert tuple(action.choices) == spec.choices, name
        elif spec.kind == "bool":
            assert isinstance(action, argparse.BooleanOptionalAction), name
        else:
            assert action.type is cli.FLAG_TYPES[spec.kind], name
    assert all(set(names) <= set(model.options) for names in model.flags.values())


def flag_text(value) -> str:
    """An option's value as it is written on the command line."""
    return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


@pytest.mark.parametrize("model", MODELS.values(), ids=MODELS)
def test_each_flag_reads_the_options_default_back(model):
    parser = subcommand(model.command)
    assert cli_common.given_options(parser.parse_args(model.data), model.flags) == {}
    for dest, names in model.flags.items():
        default = model.options[names[0]].default
        if default in (None, ()):
            continue
        if isinstance(default, bool):
            argv = [cli_common.flag_name(dest) if default else "--no-" + cli_common.flag_name(dest)[2:]]
        else:
            argv = [cli_common.flag_name(dest), flag_text(default)]
        given = cli_common.given_options(parser.parse_args([*model.data, *argv]), model.flags)
        assert given == dict.fromkeys(names, as_config(default)), argv


def test_gan_flags_read_pairs_counts_and_switches():
    args = cli.build_parser().parse_args(["train", "--betas-g", "0.0,0.99", "--maxout", "2", "--batch-norm-g"])
    options, _, _ = cli.training_settings(args, "vectors")
    assert (options["betas_g"], options["maxout"], options["batch_norm_g"]) == ([0.0, 0.99], 2, True)


@pytest.mark.parametrize("command", ["train-translate", "train-cycle"])
def test_translation_commands_pass_their_flags_and_refuse_contradicting_ones_on_resume(command, tmp_path, capsys):
    model = next(m for m in MODELS.values() if m.command == command)
    common = [command, *model.data, "--steps", "1", "--batch-size", "4", "--base-channels", "2", "--device", "cpu"]
    common += ["--out", str(tmp_path)]
    assert cli.main([*common, "--loss", "hinge", "--lr", "0.001", "--betas-d", "0.1,0.9"]) == 0
    config = model.cls.load(tmp_path / "checkpoint").config
    given = dict(loss="hinge", lr_g=0.001, lr_d=0.001, betas_d=[0.1, 0.9], base_channels=2)
    for name, spec in model.options.items():
        if name not in model.not_flags and name not in model.resolved:
            assert config[name] == given.get(name, as_config(spec.default)), name
    capsys.readouterr()
    assert cli.main([*common, "--resume", "--loss", "lsgan", "--lr-g", "0.001"]) == 2
    error = capsys.readouterr().err
    assert "--loss lsgan (checkpoint: loss='hinge')" in error and "--lr-g" not in error
    assert cli.main([*common, "--resume", "--loss", "hinge"]) == 0, "flags that agree with the checkpoint"
    assert model.cls.load(tmp_path / "checkpoint").steps_done == 2


def names_in(text: str) -> set[str]:
    return set(re.findall(r"\w+", text))


@pytest.mark.parametrize("model", MODELS.values(), ids=MODELS)
def test_docs_name_every_option(model):
    docstring = model.cls.__doc__
    missing = [name for name in model.options if name not in names_in(docstring)]
    assert not missing, f"{model.cls.__name__}'s docstring misses {missing}"
    for name, spec in model.options.items():
        for choice in spec.choices or ():
            assert f'"{choice}"' in DOCS, f"the docs miss {name}={choice!r}"


@pytest.mark.parametrize(
    "options, error",
    [
        (dict(latent_dim=1.5), rustgan.ArgumentTypeError),
        (dict(loss=3), rustgan.ArgumentTypeError),
        (dict(spectral_norm=1), rustgan.ArgumentTypeError),
        (dict(betas_g=0.5), rustgan.ArgumentTypeError),
        (dict(latent_dim=0), rustgan.InvalidArgumentError),
        (dict(loss="l2"), rustgan.InvalidArgumentError),
        (dict(lr_g=float("nan")), rustgan.InvalidArgumentError),
        (dict(seed=2**64), rustgan.InvalidArgumentError),
        (dict(augment="color,blur"), rustgan.InvalidArgumentError),
    ],
)
def test_one_fault_one_class(options, error):
    with pytest.raises(error) as raised:
        rustgan.GAN(device="cpu", **options)
    assert type(raised.value) is error
    assert next(iter(options)).split("_")[0] in str(raised.value)


def test_float_labels_raise_the_same_class_from_every_layer():
    gan = rustgan.GAN(num_classes=3, base_channels=4, latent_dim=4, device="cpu")
    x = torch.zeros(6, 1, 28, 28)
    for labels in ([0.5] * 6, torch.zeros(6), torch.zeros(6).numpy()):
        with pytest.raises(rustgan.ArgumentTypeError, match="labels must be integers"):
            gan.step(x, labels=labels)
    # Past the Python layer, Rust's own check raises the same class.
    with pytest.raises(rustgan.ArgumentTypeError, match="labels must be integers"):
        gan._core.step(x, torch.zeros(6), "raise")


def test_exception_classes_are_native_and_keep_their_builtin_bases():
    assert rustgan.errors.InvalidArgumentError is rustgan._rustgan.InvalidArgumentError
    assert issubclass(rustgan.InvalidArgumentError, ValueError)
    assert issubclass(rustgan.CheckpointError, OSError)
    assert issubclass(rustgan.NonFiniteLossError, rustgan.RustganError)
    assert rustgan.CheckpointError.__module__ == "rustgan.errors"
