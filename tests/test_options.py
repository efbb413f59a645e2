"""The options of `rustgan.GAN` are defined once, in Rust: the constructor, the command
line and the docs agree with that definition, and each fault raises one class."""

import inspect
from pathlib import Path

import pytest
import rustgan
import torch
from rustgan import cli
from rustgan.gan import OPTIONS

ROOT = Path(__file__).parents[1]
DOCS = "\n".join(path.read_text() for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def test_constructor_signature_is_the_native_definition():
    parameters = inspect.signature(rustgan.GAN.__init__).parameters
    names = [name for name in parameters if name in OPTIONS]
    assert names == list(OPTIONS), "every option, in the native order"
    assert set(parameters) - set(OPTIONS) == {"self", "device"}
    for name, spec in OPTIONS.items():
        assert parameters[name].default == spec.default, name
    assert rustgan.GAN(device="cpu").config == {
        k: list(v) if isinstance(v, tuple) else v for k, v in ((k, s.default) for k, s in OPTIONS.items())
    }


def test_cli_choices_and_defaults_come_from_the_native_definition():
    train = cli.build_parser()._subparsers._group_actions[0].choices["train"]
    actions = {action.dest: action for action in train._actions}
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


def test_every_option_has_a_cli_flag_or_says_where_its_value_comes_from():
    train = cli.build_parser()._subparsers._group_actions[0].choices["train"]
    actions = {action.dest: action for action in train._actions}
    for name, spec in OPTIONS.items():
        if name in cli.NOT_FLAGS:
            assert name not in actions
            continue
        action = actions[name]
        assert spec.doc.split(" (")[0] in action.help, name
        if spec.kind == "choice":
            assert tuple(action.choices) == spec.choices, name
        elif spec.kind != "bool":
            assert action.type is cli.FLAG_TYPES[spec.kind], name
    args = cli.build_parser().parse_args(["train", "--betas-g", "0.0,0.99", "--maxout", "2", "--batch-norm-g"])
    options, _, _ = cli.training_settings(args, "vectors")
    assert (options["betas_g"], options["maxout"], options["batch_norm_g"]) == ([0.0, 0.99], 2, True)


def test_docs_name_every_option():
    docstring = rustgan.GAN.__doc__
    for name in OPTIONS:
        assert name in docstring, f"GAN's docstring misses {name}"
    for choices in (OPTIONS["loss"].choices, OPTIONS["augment"].choices, OPTIONS["precision"].choices):
        for choice in choices:
            assert f'"{choice}"' in DOCS, f"the docs miss {choice}"


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
