"""Generated bad arguments for every public call: each ends in an exception of rustgan's
hierarchy or a correct result, never a crash, a foreign exception or a hang."""

import math
import os
import tempfile
from pathlib import Path

import pytest
import rustgan
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rustgan import cycle, edit, translator
from rustgan.gan import OPTIONS

CASES = settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
)

HUGE = [2**31, 2**40, 2**63 - 1, 2**63, 2**64, 10**30, -(2**63), -(2**70)]
SMALL_INTS = st.integers(-3, 6) | st.sampled_from(HUGE[:1] + HUGE[3:])  # no valid huge work
FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, -1.0, 1e300, 0.5])
JUNK = st.none() | st.booleans() | st.text(max_size=4) | st.lists(st.integers(-2, 3), max_size=3) | st.just(object())
DTYPES = [
    torch.float32,
    torch.float64,
    torch.float16,
    torch.bfloat16,
    torch.int64,
    torch.uint8,
    torch.bool,
    torch.complex64,
]


@st.composite
def tensors(draw, shape_hint=()):
    """Tensors of odd shapes, dtypes, values and layouts, sometimes almost right."""
    if shape_hint and draw(st.booleans()):
        shape = list(shape_hint)
        shape[0] = draw(st.integers(0, 5))
    else:
        shape = draw(st.lists(st.integers(0, 5), min_size=0, max_size=4))
    dtype = draw(st.sampled_from(DTYPES))
    x = torch.randn(*shape) if shape else torch.randn(())
    fill = draw(st.sampled_from(["normal", "nan", "inf", "huge"]))
    if fill != "normal" and x.numel():
        x.view(-1)[0] = {"nan": math.nan, "inf": -math.inf, "huge": 3e38}[fill]
    x = x.to(dtype)
    layout = draw(st.sampled_from(["plain", "transposed", "strided", "numpy", "meta"]))
    if layout == "transposed" and x.dim() >= 2:
        x = x.transpose(0, 1)
    elif layout == "strided" and x.dim() >= 1:
        x = x[::2]
    elif layout == "numpy" and dtype not in (torch.bfloat16,):
        return x.numpy()
    elif layout == "meta":  # a device without data
        return x.to("meta")
    return x


ANY = JUNK | SMALL_INTS | FLOATS | tensors()


REFUSED = object()


def outcome(call, *args, **kwargs):
    """Runs `call`; a rustgan exception is a fine answer (REFUSED), anything else propagates."""
    try:
        return call(*args, **kwargs)
    except rustgan.RustganError:
        return REFUSED


def mlp_gan(**overrides):
    options = dict(data_shape=(2,), arch="mlp", latent_dim=3, hidden_dim=8, depth=1, device="cpu")
    return rustgan.GAN(**{**options, **overrides})


@pytest.fixture(scope="module", autouse=True)
def scratch_directory(tmp_path_factory):
    """Relative paths among the generated arguments land in a scratch directory."""
    previous = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))
    yield
    os.chdir(previous)


CONDITIONAL = rustgan.GAN((2,), arch="mlp", latent_dim=3, hidden_dim=8, depth=1, num_classes=3, device="cpu")


@pytest.fixture(scope="module")
def gans():
    return {
        "mlp": mlp_gan(ema=0.9),
        "dcgan": rustgan.GAN((1, 28, 28), latent_dim=4, base_channels=2, device="cpu"),
    }


GAN_SHAPES = [(2,), (1, 28, 28), (3, 32, 32)]  # valid and small enough to build quickly


def table_values(spec, shapes=GAN_SHAPES) -> st.SearchStrategy:
    """Values for an option, from its entry in the native option table: small valid ones
    (`shapes` for a shape), the edges of its range from both sides, its other choices and
    unknown names."""
    if spec.kind == "shape":
        return st.sampled_from(shapes) | st.lists(SMALL_INTS, max_size=4)
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind in ("choice", "choices"):
        names = list(spec.choices) + ["", "unknown"]
        if spec.kind == "choices":
            names += [",".join(spec.choices[:2]), f"{spec.choices[0]},unknown"]
        return st.sampled_from(names)
    low, high, _, _ = spec.range
    if spec.kind in ("int", "seed"):
        # Small valid values keep the networks small; the largest valid one only for counts.
        edges = [int(low) - 1, int(low), int(low) + 1, int(low) + 2, int(min(high, 2**64)) + 1]
        if high <= 64:
            edges.append(int(high))
        return st.sampled_from(edges) | SMALL_INTS
    edges = [v for v in (low, high) if math.isfinite(v)]
    numbers = st.sampled_from(edges + [e + d for e in edges for d in (-1e-3, 1e-3)] + [0.5]) | FLOATS
    if spec.kind == "pair":
        return st.tuples(numbers, numbers)
    if spec.kind == "optional float":
        return st.none() | numbers
    return numbers


def valid_values(spec, shapes) -> st.SearchStrategy:
    """Values inside an option's range or among its choices (which other options may still
    rule out), small ones for sizes."""
    if spec.kind == "shape":
        return st.sampled_from(shapes)
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind == "choice":
        return st.sampled_from(spec.choices)
    if spec.kind == "choices":
        return st.lists(st.sampled_from(spec.choices), unique=True).map(",".join)
    low, high, low_included, high_included = spec.range

    def inside(value) -> bool:
        return (low < value or low_included and value == low) and (value < high or high_included and value == high)

    if spec.kind in ("int", "seed"):
        start = int(low) + (not low_included)
        return st.sampled_from([v for v in (start, start + 1, start + 2, int(high)) if inside(v) and v <= 64])
    edges = [v for v in (low, high) if math.isfinite(v)]
    numbers = st.sampled_from(
        [v for v in [*edges, *(e + d for e in edges for d in (-1e-3, 1e-3)), 0.5, 2.0] if inside(v)]
    )
    if spec.kind == "pair":
        return st.tuples(numbers, numbers)
    if spec.kind == "optional float":
        return st.none() | numbers
    return numbers


DEVICES = st.sampled_from(["cpu", "auto", "cuda:7", "tpu", ""])


def constructor_arguments(options: dict, shapes=GAN_SHAPES) -> dict[str, st.SearchStrategy]:
    """Every option of a native table, and the device: their table's values, and junk."""
    return {name: table_values(spec, shapes) | ANY for name, spec in options.items()} | {"device": DEVICES | ANY}


CONSTRUCTOR_ARGUMENTS = constructor_arguments(OPTIONS)


@CASES
@given(st.fixed_dictionaries({}, optional=CONSTRUCTOR_ARGUMENTS))
def test_constructor(kwargs):
    gan = outcome(rustgan.GAN, **kwargs)
    if gan is not REFUSED:
        assert gan.sample(2, seed=0).shape == (2, *gan.data_shape)


def as_config(value):
    """An option's value as a checkpoint's config stores it."""
    return list(value) if isinstance(value, tuple) else value


def build(cls, kwargs: dict):
    """A model built from `kwargs`, or REFUSED by an exception of rustgan's that names one
    of the arguments."""
    try:
        return cls(**kwargs)
    except rustgan.RustganError as error:
        assert any(name in str(error) for name in kwargs), f"{type(error).__name__}: {error}"
        return REFUSED


def assert_built_as_asked(model, options: dict, kwargs: dict, resolved=()) -> None:
    """A model that was built holds every option it was given; `resolved` ones keep their
    default only as the value the model works out from it."""
    config = model.config
    for name, value in kwargs.items():
        if name in options and not (name in resolved and value == options[name].default):
            assert config[name] == as_config(value), name


@st.composite
def translation_arguments(draw, options: dict) -> dict:
    """Arguments of a translation model: any options with valid values, so that many
    combinations build, then at most two at the edges of their ranges or beyond and one
    (or the device) anything at all."""
    # The sides both images must share: the smallest, or the default shapes' 28 px.
    side = draw(st.sampled_from([16, 28]))
    shapes = [(channels, side, side) for channels in (1, 3, 2)]
    valid = {name: valid_values(spec, shapes) for name, spec in options.items()}
    kwargs = draw(st.fixed_dictionaries({}, optional=valid | {"device": st.sampled_from(["cpu", "auto"])}))
    names = st.sampled_from([*options, "device"])
    edges = {name: table_values(spec, shapes) for name, spec in options.items()} | {"device": DEVICES}
    for name in draw(st.lists(names, unique=True, max_size=2)):
        kwargs[name] = draw(edges[name])
    return kwargs | draw(st.dictionaries(names, ANY, max_size=1))


# Each example that builds makes four or eight U-Net and PatchGAN networks: fewer examples.
TRANSLATION_CASES = settings(CASES, max_examples=150)
SMALL_WIDTH = {"base_channels": 4}  # unless drawn: the default 32 is slower and tests nothing more


@TRANSLATION_CASES
@given(translation_arguments(translator.OPTIONS))
def test_translator_constructor(kwargs):
    model = build(rustgan.Translator, {**SMALL_WIDTH, **kwargs})
    if model is REFUSED:
        return
    assert_built_as_asked(model, translator.OPTIONS, kwargs)
    inputs, targets = torch.rand(2, *model.in_shape) * 2 - 1, torch.rand(2, *model.out_shape) * 2 - 1
    stats = outcome(model.step, inputs, targets)
    if stats is not REFUSED:
        assert {"loss/d", "loss/g", "loss/g/l1"} <= set(stats)
    assert model.translate(inputs).shape == (2, *model.out_shape)


@TRANSLATION_CASES
@given(translation_arguments(cycle.OPTIONS))
def test_cycle_constructor(kwargs):
    model = build(rustgan.CycleGAN, {**SMALL_WIDTH, **kwargs})
    if model is REFUSED:
        return
    assert_built_as_asked(model, cycle.OPTIONS, kwargs, resolved=("patch_layers",))
    a, b = torch.rand(2, *model.shape_a) * 2 - 1, torch.rand(2, *model.shape_b) * 2 - 1
    stats = outcome(model.step, a, b)
    if stats is not REFUSED:
        assert {"loss/d", "loss/g", "loss/g/cycle"} <= set(stats)
    assert model.translate(a, to="b").shape == (2, *model.shape_b)
    assert model.translate(b, to="a").shape == (2, *model.shape_a)


@CASES
@given(network=st.sampled_from(["mlp", "dcgan"]), data=st.data())
def test_step(gans, network, data):
    gan = gans[network]
    x = data.draw(tensors((4, *gan.data_shape)) | ANY)
    stats = outcome(gan.step, x, on_nan=data.draw(st.sampled_from(["raise", "skip"]) | ANY))
    if stats is not REFUSED:
        assert {"loss/d", "loss/g"} <= set(stats)


@CASES
@given(data=st.data())
def test_conditional_calls(data):
    gan = CONDITIONAL
    labels = data.draw(tensors((4,)) | st.lists(st.integers(-2, 4), max_size=5) | ANY)
    stats = outcome(gan.step, torch.randn(4, 2), labels=labels)
    if stats is not REFUSED:
        assert {"loss/d", "loss/g"} <= set(stats)
    images = outcome(gan.sample, 4, seed=0, labels=labels)
    if images is not REFUSED:
        assert images.shape == (4, 2)


@CASES
@given(
    x=tensors((16, 2)) | ANY,
    steps=SMALL_INTS | ANY,
    batch_size=SMALL_INTS | ANY,
    log_every=SMALL_INTS | ANY,
    on_nan=st.just("raise") | ANY,
    checkpoint_every=st.none() | SMALL_INTS | ANY,
    use_out=st.booleans(),
)
def test_fit(x, steps, batch_size, log_every, on_nan, checkpoint_every, use_out):
    gan = mlp_gan()
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "ck" if use_out else None
        history = outcome(
            gan.fit,
            x,
            steps,
            batch_size,
            log_every=log_every,
            on_nan=on_nan,
            progress=False,
            checkpoint_every=checkpoint_every,
            out=out,
        )
        if history is not REFUSED:
            assert gan.steps_done == steps
            if out is not None:
                assert rustgan.GAN.load(out).steps_done == steps


@CASES
@given(
    network=st.sampled_from(["mlp", "dcgan"]),
    n=SMALL_INTS | ANY,
    seed=st.none() | SMALL_INTS | ANY,
    ema=st.booleans(),
    truncation=FLOATS | ANY,
    z=tensors((3, 3)) | ANY,
)
def test_sample_latent_generate(gans, network, n, seed, ema, truncation, z):
    gan = gans[network]
    images = outcome(gan.sample, n, seed=seed, ema=ema, truncation=truncation)
    if images is not REFUSED:
        assert images.shape == (n, *gan.data_shape) and torch.isfinite(images).all()
    images = outcome(gan.generate, z)
    if images is not REFUSED:
        assert images.shape == (len(z), *gan.data_shape)


def corrupt(directory: Path, data) -> None:
    """Flips, truncates, deletes or rewrites one file of a checkpoint."""
    files = sorted(directory.iterdir())
    target = data.draw(st.sampled_from(files))
    blob = bytearray(target.read_bytes())
    action = data.draw(st.sampled_from(["flip", "truncate", "delete", "garbage", "json"]))
    if action == "flip" and blob:
        offset = data.draw(st.integers(0, len(blob) - 1))
        blob[offset] ^= 1 << data.draw(st.integers(0, 7))
        target.write_bytes(bytes(blob))
    elif action == "truncate":
        target.write_bytes(bytes(blob[: data.draw(st.integers(0, max(0, len(blob) - 1)))]))
    elif action == "delete":
        target.unlink()
    elif action == "garbage":
        target.write_bytes(data.draw(st.binary(max_size=64)))
    else:
        target.write_text(data.draw(st.sampled_from(['{"step": -1}', "[]", "null", '{"data_shape": [1e9]}'])))


@CASES
@given(data=st.data())
def test_save_and_load(gans, data):
    gan = gans["mlp"]
    with tempfile.TemporaryDirectory() as directory:
        path = data.draw(st.sampled_from(["ck", "", "a/b/c", ".", "x\0y"]) | ANY)
        if isinstance(path, str) and path not in ("", "x\0y"):
            path = Path(directory) / path
        outcome(gan.save, path)
        checkpoint = Path(directory) / "ck"
        gan.save(checkpoint)
        corrupt(checkpoint, data)
        loaded = outcome(rustgan.GAN.load, checkpoint, device=data.draw(st.sampled_from(["cpu", "cuda:9"]) | ANY))
        if loaded is not REFUSED:
            assert loaded.config == gan.config
            outcome(loaded.sample, 2)  # loads may hold flipped but finite weights


@pytest.mark.parametrize("call", ["interpolate", "arithmetic", "project", "inpaint", "state_dict"])
@CASES
@given(data=st.data())
def test_editing(gans, call, data):
    gan = gans[data.draw(st.sampled_from(["mlp", "dcgan"]))]
    z = tensors((2, gan.latent_dim)) | tensors((gan.latent_dim,)) | ANY
    if call == "interpolate":
        result = outcome(
            edit.interpolate,
            gan,
            data.draw(z),
            data.draw(z),
            steps=data.draw(SMALL_INTS | ANY),
            method=data.draw(st.sampled_from(["slerp", "lerp"]) | ANY),
        )
        if result is not REFUSED:
            assert torch.isfinite(result).all()
    elif call == "arithmetic":
        group = st.lists(z, max_size=3) | ANY
        outcome(edit.arithmetic, gan, data.draw(group), data.draw(st.none() | group), data.draw(st.none() | z))
    elif call in ("project", "inpaint"):
        images = data.draw(tensors((2, *gan.data_shape)) | ANY)
        mask = data.draw(st.none() | tensors((1, *gan.data_shape)) | tensors(gan.data_shape) | ANY)
        options = dict(
            steps=data.draw(st.integers(-1, 3) | ANY),
            lr=data.draw(FLOATS | ANY),
            restarts=data.draw(st.integers(-1, 3) | ANY),
            seed=data.draw(SMALL_INTS | ANY),
        )
        if call == "project":
            result = outcome(edit.project, gan, images, mask=mask, **options)
        else:
            result = outcome(edit.inpaint, gan, images, mask, feather=data.draw(st.integers(-1, 2) | ANY), **options)
        if result is not REFUSED:
            assert torch.isfinite(result.images).all()
    else:
        state = gan.generator_state_dict(ema=False)
        name = data.draw(st.sampled_from(sorted(k for k in state if not k.endswith("num_batches_tracked"))))
        state[name] = data.draw(tensors(tuple(state[name].shape)) | ANY)
        before = gan.generator_state_dict(ema=False)
        refused = outcome(gan.load_generator_state_dict, state) is REFUSED
        after = gan.generator_state_dict(ema=False)
        if refused:  # a refused state dict changes nothing
            assert all(torch.equal(before[k], after[k]) for k in before)
        else:
            assert torch.equal(after[name], torch.as_tensor(state[name]).float())
            gan.load_generator_state_dict(before)
