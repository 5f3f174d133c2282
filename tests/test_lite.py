"""The lite model: its files, the Stylizer running it, work size, and distillation."""
import copy
import csv

import numpy as np
import pytest
import torch

from conftest import frames_rgb
from test_train import image_dir
from vidstyle.distill import DistillConfig, DistillTrainer
from vidstyle.errors import VidstyleError
from vidstyle.lite import LiteEncoder, LiteModel
from vidstyle.stylizer import Stylizer, Target, load_stylizer
from vidstyle.weights_file import read_meta


@pytest.fixture(scope="module")
def lite_file(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("lite") / "lite.safetensors"
    LiteModel((8, 16, 24)).save(path, meta={"step": 7})
    return path


def test_lite_file_keeps_its_widths_and_meta(lite_file):
    model = LiteModel.load(lite_file)
    assert model.widths == (8, 16, 24)
    assert read_meta(lite_file) == {"step": 7, "widths": [8, 16, 24], "feature_kernel": 3}
    x = torch.rand(1, 3, 37, 50)
    feat = model.encoder(x)
    assert feat.shape == (1, 512, 5, 7)  # VGG's relu4_1 grid: ceil-mode pools, 1/8 size
    assert model.decoder(feat).shape == (1, 3, 40, 56)


def test_weights_files_are_readable_by_others_as_the_umask_allows(lite_file):
    import os
    import stat

    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(lite_file.stat().st_mode) == 0o666 & ~mask  # safetensors alone gives 0o600


def test_missing_or_foreign_lite_file_is_a_clear_error(tmp_path):
    with pytest.raises(VidstyleError, match="vidstyle distill"):
        LiteModel.load(tmp_path / "none.safetensors")
    from vidstyle.decoder import Decoder

    Decoder().save(tmp_path / "decoder.safetensors")
    with pytest.raises(VidstyleError, match="do not fit"):
        LiteModel.load(tmp_path / "decoder.safetensors")


def test_lite_stylizer_uses_vgg_for_styles_and_the_lite_net_for_frames(lite_file, encoder, random_decoder):
    lite = load_stylizer("lite", str(lite_file), device="cpu", precision="fp32")
    full = Stylizer(random_decoder, "cpu", "fp32", encoder=encoder)
    style = torch.rand(3, 40, 40, generator=torch.Generator().manual_seed(3))
    # Same VGG statistics, so cached styles are shared between the models.
    assert torch.allclose(lite.style_stats(style).mean, full.style_stats(style).mean)
    # (a file at other widths than the shipped lite model's is named by them)
    assert lite.model_name == "custom (8/16/24)" and isinstance(lite.net.encoder, LiteEncoder)
    out = lite.stylize_frames(frames_rgb(2, 52, 36), Target(lite.style_stats(style)))
    assert out.shape == (2, 36, 52, 3) and out.dtype == np.uint8


@pytest.mark.parametrize("model, first_width", [("lite", 24), ("tiny", 16)])
def test_shipped_lite_models_load_by_name(encoder, model, first_width):
    stylizer = load_stylizer(model, device="cpu", precision="fp32", encoder=encoder)
    assert stylizer.describe()["model"] == model
    first_conv = next(m for m in stylizer.net.encoder.modules() if isinstance(m, torch.nn.Conv2d))
    assert first_conv.out_channels == first_width
    frames = frames_rgb(1, 40, 32)
    target = Target(stylizer.style_stats(torch.rand(3, 32, 32)))
    assert stylizer.stylize_frames(frames, target).shape == frames.shape


def test_unknown_model_name():
    with pytest.raises(VidstyleError, match="unknown model"):
        load_stylizer("huge")


def test_work_size_runs_the_net_smaller_and_returns_the_frame_size(encoder, random_decoder):
    st = Stylizer(random_decoder, "cpu", "fp32", encoder=encoder, work_size=16)
    seen = []
    st.net.register_forward_pre_hook(lambda m, args: seen.append(tuple(args[0].shape[-2:])))
    target = Target(st.style_stats(torch.rand(3, 32, 32)))
    out = st.stylize_frames(frames_rgb(1, 64, 48), target)
    assert seen == [(16, 21)] and out.shape == (1, 48, 64, 3)
    # Frames already at or below the work size run as they are.
    seen.clear()
    st.stylize_frames(frames_rgb(1, 24, 16), target)
    assert seen == [(16, 24)]


def test_adain_with_one_alpha_per_instance_matches_scalar_alphas():
    from vidstyle.adain import adain

    f = torch.rand(2, 4, 5, 5)
    mean, std = torch.rand(1, 4, 1, 1), torch.rand(1, 4, 1, 1) + 0.5
    alpha = torch.tensor([1.0, 0.25]).view(2, 1, 1, 1)
    out = adain(f, mean, std, alpha)
    assert torch.allclose(out[:1], adain(f[:1], mean, std, 1.0), atol=1e-6)
    assert torch.allclose(out[1:], adain(f[1:], mean, std, 0.25), atol=1e-6)


@pytest.fixture
def dirs(tmp_path):
    return image_dir(tmp_path / "content", 3, 1), image_dir(tmp_path / "style", 3, 2)


def distill_config(dirs, out, steps=3, **kw):
    kw.setdefault("widths", (8, 16, 24))
    return DistillConfig(str(dirs[0]), str(dirs[1]), str(out), schedule=[(32, steps)], batch=2,
                         checkpoint_every=2, sample_every=1000, device="cpu", **kw)


def fit_one_batch(trainer, steps=10):
    """Train on one fixed batch; (loss, terms) before the first step and after the last."""
    content, style, _ = trainer._batch(32)
    trainer.gen.manual_seed(0)
    first = trainer.step_loss(content, style)
    for _ in range(steps):
        trainer.gen.manual_seed(0)  # the same alphas each time: a fixed problem
        loss, terms = trainer.step_loss(content, style)
        trainer.optim.zero_grad()
        loss.backward()
        trainer.optim.step()
    return first, (loss, terms)


def test_distillation_learns_the_teachers_frames(dirs, tmp_path, encoder, random_decoder):
    trainer = DistillTrainer(distill_config(dirs, tmp_path / "run", lr=3e-3), encoder, random_decoder)
    (first, _), (loss, terms) = fit_one_batch(trainer)
    assert set(terms) == {"pixel", "perceptual", "feature"}
    assert loss.item() < 0.8 * first.item()


def test_distillation_style_term_pulls_the_outputs_towards_the_styles_statistics(
        dirs, tmp_path, encoder, random_decoder):
    """Against a control with the term (almost) off: same start, same batch, same steps."""
    ratios = []
    for weight in (50.0, 1e-9):
        cfg = distill_config(dirs, tmp_path / f"run{weight}", lr=1e-3, style_weight=weight)
        trainer = DistillTrainer(cfg, encoder, random_decoder)
        assert trainer.log_terms[-1] == "style"
        (_, first), (_, terms) = fit_one_batch(trainer, steps=3)
        ratios.append(terms["style"] / first["style"])
    with_term, control = ratios
    assert with_term < control - 0.03, ratios  # measured 0.94 against 1.00


def test_distill_command_writes_a_loadable_lite_file_and_resumes(capsys, dirs, tmp_path):
    from vidstyle.cli.main import main

    common = ["distill", "--content", str(dirs[0]), "--style", str(dirs[1]), "--out", str(tmp_path / "run"),
              "--batch", "1", "--checkpoint-every", "1", "--device", "cpu"]
    assert main(common + ["--schedule", "32:1"]) == 0
    assert main(common + ["--schedule", "32:2", "--resume"]) == 0
    assert "done: 2 steps" in capsys.readouterr().out
    rows = list(csv.DictReader(open(tmp_path / "run" / "log.csv")))
    assert [r["step"] for r in rows] == ["1", "2"] and "pixel" in rows[0]
    assert read_meta(tmp_path / "run" / "lite.safetensors")["step"] == 2
    LiteModel.load(tmp_path / "run" / "lite.safetensors")


def test_convert_and_bench_with_the_lite_model(capsys, clip, style_png, lite_file, tmp_path):
    import json

    from vidstyle.cli.main import main

    out = tmp_path / "out.mp4"
    assert main(["convert", str(clip), "-s", str(style_png), "-o", str(out), "--model", "lite",
                 "--decoder", str(lite_file), "--work-size", "32"]) == 0
    assert out.is_file() and "12 frames 64x48" in capsys.readouterr().out
    assert main(["bench", "--sizes", "32x32", "--steps", "1", "--frames", "2", "--no-file",
                 "--model", "lite", "--decoder", str(lite_file), "--json", str(tmp_path / "b.json")]) == 0
    row = json.loads((tmp_path / "b.json").read_text())["results"][0]
    assert row["model"] == "custom (8/16/24)" and row["work_size"] is None


def test_missing_lite_weights_say_how_to_get_them(capsys, clip, style_png, tmp_path):
    from vidstyle.cli.main import main

    code = main(["convert", str(clip), "-s", str(style_png), "-o", str(tmp_path / "o.mp4"),
                 "--model", "lite", "--decoder", str(tmp_path / "none.safetensors")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "vidstyle distill" in err


def test_auto_model_follows_the_weights_file_then_the_device(lite_file, tmp_path, encoder):
    from vidstyle.decoder import Decoder
    from vidstyle.stylizer import pick_model

    Decoder().save(tmp_path / "decoder.safetensors")
    assert pick_model(str(lite_file)) == "lite"
    assert pick_model(str(tmp_path / "decoder.safetensors")) == "full"
    assert pick_model(device="cpu") in ("lite", "tiny")  # a shipped small model, on a CPU
    # the lite architecture, at the file's own widths (not the shipped lite model's)
    auto = load_stylizer("auto", str(lite_file), device="cpu", encoder=encoder)
    assert auto.model_name == "custom (8/16/24)"


@pytest.mark.parametrize("bf16,expected", [(True, "lite"), (False, "tiny")])
def test_auto_on_a_cpu_is_lite_with_bf16_units_and_tiny_without(monkeypatch, bf16, expected):
    import vidstyle.stylizer
    from vidstyle.stylizer import pick_model

    monkeypatch.setattr(vidstyle.stylizer, "cpu_has_bf16", lambda: bf16)
    assert pick_model(device="cpu") == expected


def test_work_size_below_one_is_refused(random_decoder, encoder):
    with pytest.raises(VidstyleError, match="at least 1"):
        Stylizer(random_decoder, "cpu", "fp32", encoder=encoder, work_size=0)


def test_distill_init_takes_the_widths_from_the_file(dirs, tmp_path, lite_file, encoder, random_decoder):
    trainer = DistillTrainer(distill_config(dirs, tmp_path / "run", init_weights=str(lite_file),
                                            widths=None), encoder, random_decoder)
    assert trainer.model.widths == (8, 16, 24) and trainer.cfg.widths == (8, 16, 24)


def test_narrowing_keeps_the_strongest_channels_exactly(lite_file):
    wide = LiteModel.load(lite_file).float()
    narrow = wide.narrowed((4, 8, 12))
    assert narrow.widths == (4, 8, 12)
    # The wide model with its weakest channels silenced must compute what the narrow one does.
    silenced = copy.deepcopy(wide)
    dropped = None
    for conv, small in zip(silenced.convs(), narrow.convs()):
        with torch.no_grad():
            if dropped is not None:
                conv.weight[:, dropped] = 0
            dropped = None
            if small.out_channels < conv.out_channels:
                dropped = conv.weight.abs().sum((1, 2, 3)).argsort()[: conv.out_channels - small.out_channels]
                conv.weight[dropped] = 0
                conv.bias[dropped] = 0
    x = torch.rand(2, 3, 32, 40)
    with torch.no_grad():
        assert torch.allclose(narrow.decoder(narrow.encoder(x)), silenced.decoder(silenced.encoder(x)),
                              atol=1e-5)
        same = wide.narrowed(wide.widths)
        assert torch.equal(same.decoder(same.encoder(x)), wide.decoder(wide.encoder(x)))
    with pytest.raises(ValueError, match="cannot widen"):
        wide.narrowed((8, 16, 32))


def test_distill_widths_narrower_than_the_init_file(dirs, tmp_path, lite_file, encoder, random_decoder):
    trainer = DistillTrainer(distill_config(dirs, tmp_path / "run", init_weights=str(lite_file),
                                            widths=(4, 8, 12)), encoder, random_decoder)
    assert trainer.model.widths == (4, 8, 12) and trainer.cfg.widths == (4, 8, 12)
    with pytest.raises(VidstyleError, match="--widths: cannot widen"):
        DistillTrainer(distill_config(dirs, tmp_path / "run2", init_weights=str(lite_file),
                                      widths=(8, 16, 32)), encoder, random_decoder)


def test_distill_command_checks_widths(capsys, dirs, tmp_path):
    from vidstyle.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["distill", "--content", str(dirs[0]), "--style", str(dirs[1]), "--widths", "16,32"])
    assert exc.value.code == 2
    assert "expected three positive channel counts" in capsys.readouterr().err


def test_a_lite_file_given_to_the_full_model_says_which_model_to_use(lite_file):
    with pytest.raises(VidstyleError, match="is a lite model file; use --model lite"):
        load_stylizer("full", str(lite_file))


def test_a_full_decoder_given_to_the_lite_model_says_which_model_to_use(tmp_path):
    from vidstyle.decoder import Decoder, default_weights_path

    for model in ("lite", "tiny"):
        with pytest.raises(VidstyleError, match="is a full model's decoder; use --model full or auto"):
            load_stylizer(model, str(default_weights_path()))
    assert isinstance(load_stylizer("auto", str(default_weights_path())).net.decoder, Decoder)


def test_pointwise_feature_convolutions_keep_their_kernel_through_a_file(tmp_path, lite_file):
    from vidstyle.lite import stored_feature_kernel
    from vidstyle.weights_file import save_weights

    model = LiteModel((8, 16, 24), feature_kernel=1)
    assert [c.kernel_size for c in (model.convs()[5], model.convs()[6])] == [(1, 1), (1, 1)]
    path = tmp_path / "pointwise.safetensors"
    model.save(path)
    loaded = LiteModel.load(path)
    assert loaded.feature_kernel == 1 and stored_feature_kernel(path) == 1
    x = torch.rand(1, 3, 37, 50)
    assert loaded.decoder(loaded.encoder(x)).shape == (1, 3, 40, 56)
    assert loaded.narrowed((4, 8, 12)).feature_kernel == 1
    tiny = load_stylizer("tiny", str(path), device="cpu")  # as `--model tiny --decoder FILE` loads it
    assert tiny.net.encoder.layers[-2].kernel_size == (1, 1)
    style = torch.rand(3, 40, 40, generator=torch.Generator().manual_seed(3))
    assert tiny.stylize_frames(frames_rgb(1, 52, 36), Target(tiny.style_stats(style))).shape == (1, 36, 52, 3)
    older = tmp_path / "older.safetensors"  # written before the kernel was recorded: 3x3
    save_weights(LiteModel((8, 16, 24)), older, torch.float16, {"widths": [8, 16, 24]})
    assert stored_feature_kernel(older) == 3 and LiteModel.load(older).feature_kernel == 3
    with pytest.raises(ValueError, match="1 or 3"):
        LiteModel((8, 16, 24), feature_kernel=5)


def test_pointwise_copy_of_a_model_agrees_with_it_on_a_flat_picture(lite_file):
    model = LiteModel.load(lite_file).float()
    pointwise = model.with_pointwise_features()
    assert pointwise.feature_kernel == 1 and pointwise.with_pointwise_features() is pointwise
    flat = torch.full((1, 3, 32, 32), 0.4)  # every 3x3 window sees one value: summed taps are exact
    with torch.no_grad():
        features = model.encoder(flat)
        torch.testing.assert_close(pointwise.encoder(flat), features, rtol=1e-5, atol=1e-5)
        flat_features = features.mean((2, 3), keepdim=True).expand_as(features).contiguous()
        torch.testing.assert_close(pointwise.decoder(flat_features), model.decoder(flat_features),
                                   rtol=1e-5, atol=1e-5)
        x = torch.rand(1, 3, 32, 32)
        assert not torch.allclose(pointwise.encoder(x), model.encoder(x), atol=1e-3)  # a real change


def test_distill_feature_kernel_from_the_init_file_or_asked(dirs, tmp_path, lite_file, encoder,
                                                            random_decoder):
    trainer = DistillTrainer(distill_config(dirs, tmp_path / "run", init_weights=str(lite_file),
                                            widths=None), encoder, random_decoder)
    assert trainer.model.feature_kernel == 3 and trainer.cfg.feature_kernel == 3
    trainer = DistillTrainer(distill_config(dirs, tmp_path / "run1", init_weights=str(lite_file),
                                            widths=None, feature_kernel=1), encoder, random_decoder)
    assert trainer.model.feature_kernel == 1
    trainer.model.save(tmp_path / "p.safetensors")
    with pytest.raises(VidstyleError, match="cannot start one with 3x3"):
        DistillTrainer(distill_config(dirs, tmp_path / "run2", init_weights=str(tmp_path / "p.safetensors"),
                                      widths=None, feature_kernel=3), encoder, random_decoder)
    fresh = DistillTrainer(distill_config(dirs, tmp_path / "run3", feature_kernel=1), encoder, random_decoder)
    assert fresh.model.feature_kernel == 1 and fresh.cfg.feature_kernel == 1



def test_read_only_frames_are_stylized_without_a_warning(lite_file):
    import warnings

    lite = load_stylizer("lite", str(lite_file), device="cpu", precision="fp32")
    frames = frames_rgb(1, 32, 24)
    frames.flags.writeable = False  # as np.asarray(PIL image) gives them
    target = Target(lite.style_stats(torch.rand(3, 40, 40)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = lite.stylize_frames(frames, target)
    assert out.shape == (1, 24, 32, 3) and not frames.flags.writeable


def test_missing_weights_name_the_model_asked_for(tmp_path):
    from vidstyle.errors import VidstyleError
    from vidstyle.lite import LiteModel

    with pytest.raises(VidstyleError, match="tiny model weights not found"):
        LiteModel.load(tmp_path / "nope.safetensors", "tiny")
