"""Training on tiny crops: losses, checkpoints, exact resume, bad images, samples and logs."""
import csv

import numpy as np
import pytest
import torch
from PIL import Image

from vidstyle.decoder import Decoder, read_training_meta
from vidstyle.errors import VidstyleError
from vidstyle.train import TrainConfig, Trainer, parse_schedule, train


def image_dir(path, n, seed):
    path.mkdir()
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (72, 80, 3), dtype=np.uint8)).save(path / f"{i}.png")
    return path


@pytest.fixture
def dirs(tmp_path):
    content = image_dir(tmp_path / "content", 3, 1)
    style = image_dir(tmp_path / "style", 3, 2)
    (style / "broken.jpg").write_bytes(b"not an image")
    return content, style


def config(dirs, out, steps=4, **kw):
    return TrainConfig(str(dirs[0]), str(dirs[1]), str(out), schedule=[(32, steps)], batch=2,
                       checkpoint_every=2, sample_every=1000, device="cpu", **kw)


def test_parse_schedule():
    assert parse_schedule("128:16000,256:2000") == [(128, 16000), (256, 2000)]
    for bad in ("", "128", "100:5", "128:0", "a:b"):
        with pytest.raises(VidstyleError):
            parse_schedule(bad)


@pytest.mark.parametrize("has_bf16, expected", [(True, torch.bfloat16), (False, None)])
def test_auto_precision_trains_in_bf16_only_where_the_cpu_has_it(dirs, tmp_path, encoder, monkeypatch,
                                                                   has_bf16, expected):
    from vidstyle import devices

    monkeypatch.setattr(devices, "cpu_has_bf16", lambda: has_bf16)
    assert Trainer(config(dirs, tmp_path / "run"), encoder=encoder).amp_dtype == expected


def test_crop_follows_the_schedule(dirs, tmp_path):
    cfg = config(dirs, tmp_path / "run")
    cfg.schedule = [(32, 2), (48, 3)]
    assert [cfg.crop_at(s) for s in range(6)] == [32, 32, 48, 48, 48, 48]
    assert cfg.total_steps == 5


def test_training_lowers_the_loss_on_a_fixed_batch(dirs, tmp_path, encoder, caplog):
    trainer = Trainer(config(dirs, tmp_path / "run", lr=1e-3), encoder=encoder)
    assert "broken.jpg" in caplog.text  # skipped with a warning, not a crash
    content, style, _ = trainer._batch(32)
    first = None
    for _ in range(8):
        loss_c, loss_s, _ = trainer.losses(content, style)
        loss = loss_c + 10 * loss_s.sum()
        first = first if first is not None else loss.item()
        trainer.optim.zero_grad()
        loss.backward()
        trainer.optim.step()
    assert loss.item() < first


def test_resume_continues_exactly(dirs, tmp_path, encoder):
    straight = train(config(dirs, tmp_path / "a"), trainer=Trainer(config(dirs, tmp_path / "a"), encoder))
    half = config(dirs, tmp_path / "b", steps=2)
    train(half, trainer=Trainer(half, encoder))
    rest = config(dirs, tmp_path / "b", steps=4)
    resumed = Trainer(rest, encoder)
    assert resumed.resume() and resumed.step == 2
    train(rest, trainer=resumed)
    for (k, a), (_, b) in zip(straight.decoder.state_dict().items(), resumed.decoder.state_dict().items()):
        assert torch.equal(a, b), k
    rows = list(csv.DictReader(open(tmp_path / "b" / "log.csv")))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    assert list((tmp_path / "b").glob("samples_*.png"))
    shipped = Decoder.load(tmp_path / "b" / "decoder.safetensors")
    assert read_training_meta(tmp_path / "b" / "decoder.safetensors")["step"] == 4
    assert isinstance(shipped, Decoder)


def test_batches_drawn_ahead_in_a_thread_train_exactly_as_drawn_in_turn(dirs, tmp_path, encoder):
    """What a GPU does (prefetch); stopped and resumed halfway, it still matches."""
    straight = train(config(dirs, tmp_path / "a"), trainer=Trainer(config(dirs, tmp_path / "a"), encoder))
    assert not straight.prefetch  # the CPU default
    half = config(dirs, tmp_path / "b", steps=2)
    first = Trainer(half, encoder)
    first.prefetch = True
    train(half, trainer=first)
    assert first._loader is None  # the thread is stopped at the end
    rest = config(dirs, tmp_path / "b", steps=4)
    resumed = Trainer(rest, encoder)
    resumed.prefetch = True
    assert resumed.resume() and resumed.step == 2
    train(rest, trainer=resumed)
    for (k, a), (_, b) in zip(straight.decoder.state_dict().items(), resumed.decoder.state_dict().items()):
        assert torch.equal(a, b), k


def test_interrupt_saves_a_checkpoint(dirs, tmp_path, encoder, monkeypatch):
    cfg = config(dirs, tmp_path / "run", steps=10)
    cfg.checkpoint_every = 100
    trainer = Trainer(cfg, encoder)
    real = trainer.train_step

    def step():
        if trainer.step == 3:
            raise KeyboardInterrupt
        return real()

    monkeypatch.setattr(trainer, "train_step", step)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, trainer=trainer)
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert state["step"] == 3


def test_a_time_limit_stops_cleanly_with_weights_and_a_checkpoint(dirs, tmp_path, encoder, monkeypatch):
    import vidstyle.train

    clock = iter(range(0, 10_000, 30))  # every reading of the clock is 30 s later
    monkeypatch.setattr(vidstyle.train, "_clock", lambda: next(clock))
    cfg = config(dirs, tmp_path / "run", steps=50, max_minutes=1.5)
    cfg.checkpoint_every = 100
    trainer = train(cfg, trainer=Trainer(cfg, encoder))
    assert trainer.stopped_by_time and trainer.step == 2  # the third reading is 90 s after the first
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["step"] == trainer.step
    assert read_training_meta(tmp_path / "run" / "decoder.safetensors")["step"] == trainer.step


def test_empty_folder_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(VidstyleError, match="no readable images"):
        Trainer(TrainConfig(str(tmp_path / "empty"), str(tmp_path / "empty"), str(tmp_path / "o")))
    assert not (tmp_path / "o").exists()  # (an empty run folder was left behind)


def test_each_steps_log_row_can_be_read_as_the_step_ends(dirs, tmp_path, encoder):
    """The log was written at checkpoints only: empty for the first 250 steps by default."""
    cfg = config(dirs, tmp_path / "run")
    cfg.checkpoint_every = 100
    seen = []
    train(cfg, on_step=lambda r: seen.append(len(open(tmp_path / "run" / "log.csv").readlines())),
          trainer=Trainer(cfg, encoder))
    assert seen == [2, 3, 4, 5]  # (the header and one row a step)


def test_a_stop_after_the_batch_is_drawn_resumes_on_that_batch(dirs, tmp_path, encoder, monkeypatch):
    """Ctrl-C inside a step checkpointed the data stream after that step's batch, so the
    resumed run skipped a batch: one step off an uninterrupted run from there on."""
    straight = train(config(dirs, tmp_path / "a"), trainer=Trainer(config(dirs, tmp_path / "a"), encoder))
    cfg = config(dirs, tmp_path / "b")
    cut = Trainer(cfg, encoder)
    real = cut.step_loss

    def loss(content, style):  # (the batch is drawn; the step is not done)
        if cut.step == 2:
            raise KeyboardInterrupt
        return real(content, style)

    monkeypatch.setattr(cut, "step_loss", loss)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, trainer=cut)
    resumed = Trainer(cfg, encoder)
    assert resumed.resume() and resumed.step == 2
    train(cfg, trainer=resumed)
    for (k, a), (_, b) in zip(straight.decoder.state_dict().items(), resumed.decoder.state_dict().items()):
        assert torch.equal(a, b), k


def test_a_folder_holding_a_run_is_refused_unless_it_goes_on_or_starts_over(dirs, tmp_path, encoder, capsys):
    from vidstyle.cli.main import main
    from vidstyle.run_folder import check_run_folder

    out = tmp_path / "run"
    train(config(dirs, out, steps=2), trainer=Trainer(config(dirs, out, steps=2), encoder))
    weights = (out / "decoder.safetensors").read_bytes()
    with pytest.raises(VidstyleError, match=r"holds a run already \(checkpoint.pt\): --resume goes on"):
        check_run_folder(out, resume=False, overwrite=False)
    check_run_folder(out, resume=True, overwrite=False)
    common = ["train", "--content", str(dirs[0]), "--style", str(dirs[1]), "--out", str(out), "--batch", "1",
              "--device", "cpu", "--schedule", "32:1"]
    assert main(common) == 1 and "holds a run already" in capsys.readouterr().err
    assert (out / "decoder.safetensors").read_bytes() == weights and (out / "checkpoint.pt").exists()
    assert main(["distill", *common[1:]]) == 1 and "holds a run already" in capsys.readouterr().err
    assert main(common + ["--overwrite"]) == 0  # (its log starts again at step 1)
    assert [r["step"] for r in csv.DictReader(open(out / "log.csv"))] == ["1"]
    with pytest.raises(SystemExit) as exc:
        main(common[:-1] + ["32:2", "--lr", "-1"])
    assert exc.value.code == 2 and "expected a number > 0" in capsys.readouterr().err


def test_a_checkpoint_that_cannot_be_written_is_one_line_and_leaves_no_partial_file(dirs, tmp_path, encoder,
                                                                                    monkeypatch):
    """A full disk: torch's 'unexpected pos' traceback, and a .partial file keeping it full."""
    import shutil
    from collections import namedtuple

    cfg = config(dirs, tmp_path / "run")
    trainer = Trainer(cfg, encoder)

    def full(state, path):
        open(path, "wb").write(b"half a checkpoint")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", full)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: namedtuple("Usage", "total used free")(1, 1, 0))
    with pytest.raises(VidstyleError, match=r"cannot save the checkpoint in .* \(the disk is full\)"):
        train(cfg, trainer=trainer)
    assert not list((tmp_path / "run").glob("*.partial"))


def test_resuming_a_checkpoint_of_another_model_is_one_line(dirs, tmp_path, encoder, random_decoder):
    from vidstyle.distill import DistillConfig, DistillTrainer

    out = tmp_path / "run"
    narrow = DistillConfig(str(dirs[0]), str(dirs[1]), str(out), schedule=[(32, 1)], batch=1, device="cpu",
                           widths=(8, 16, 32))
    train(narrow, trainer=DistillTrainer(narrow, encoder, random_decoder))
    wide = DistillConfig(str(dirs[0]), str(dirs[1]), str(out), schedule=[(32, 2)], batch=1, device="cpu",
                         widths=(16, 32, 64))
    with pytest.raises(VidstyleError, match="it holds another model .* other --widths or --feature-kernel") \
            as error:
        DistillTrainer(wide, encoder, random_decoder).resume()
    assert "\n" not in str(error.value)
    (out / "checkpoint.pt").write_bytes(b"damaged")
    with pytest.raises(VidstyleError, match="cannot read it"):
        DistillTrainer(wide, encoder, random_decoder).resume()


def _checkpoint_config(out):
    import json

    return json.loads(torch.load(out / "checkpoint.pt", weights_only=True)["config"])


def test_resume_goes_on_with_the_runs_own_settings_and_says_what_it_changes(dirs, tmp_path, capsys):
    """A `--resume` without its run's --lr, --batch or data folders ran on with the defaults
    (or refused for want of --content): a run changed without a word."""
    from vidstyle.cli.main import main

    out = tmp_path / "run"
    start = ["train", "--content", str(dirs[0]), "--style", str(dirs[1]), "--out", str(out), "--batch", "1",
             "--device", "cpu", "--schedule", "32:1", "--lr", "3e-4", "--style-weight", "4", "--seed", "5"]
    assert main(start) == 0
    capsys.readouterr()
    assert main(["train", "--out", str(out), "--resume", "--schedule", "32:2", "--device", "cpu"]) == 0
    said = capsys.readouterr().out
    assert "--schedule 32:2 in place of the run's 32:1" in said
    settings = _checkpoint_config(out)
    assert (settings["lr"], settings["batch"], settings["style_weight"], settings["seed"]) == (3e-4, 1, 4, 5)
    assert settings["content_dir"] == str(dirs[0])
    assert [r["step"] for r in csv.DictReader(open(out / "log.csv"))] == ["1", "2"]
    # given ones replace the run's, each said; a start setting cannot change a run going on
    assert main(["train", "--out", str(out), "--resume", "--schedule", "32:3", "--lr", "2e-4",
                 "--seed", "6", "--device", "cpu"]) == 0
    said = capsys.readouterr().out
    assert "--lr 0.0002 in place of the run's 0.0003" in said
    assert "--seed 6 not used: going on keeps the run's 5" in said
    assert (_checkpoint_config(out)["lr"], _checkpoint_config(out)["seed"]) == (2e-4, 5)
    assert _checkpoint_config(out)["history"] == [  # (a schedule is a list of [crop, steps])
        {"step": 1, "changed": {"schedule": [[[32, 1]], [[32, 2]]]}},
        {"step": 2, "changed": {"schedule": [[[32, 2]], [[32, 3]]], "lr": [3e-4, 2e-4]}}]
    # at the end of its schedule: said, nothing run (it said "done" and wrote its files again)
    log = (out / "log.csv").read_text()
    assert main(["train", "--out", str(out), "--resume", "--device", "cpu"]) == 0
    assert "is at step 3, the end of its schedule (3 steps): nothing to do" in capsys.readouterr().out
    assert (out / "log.csv").read_text() == log
    # a new run still needs its data; a mistyped --out to go on is said as such
    assert main(["train", "--out", str(tmp_path / "new"), "--device", "cpu"]) == 1
    assert "required to start a run: --content, --style" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "runn"), "--resume", "--device", "cpu"]) == 1
    assert "no run to go on with in" in capsys.readouterr().err
    # the run's data moved: the option that gives it anew is named (not "not a folder: content")
    moved = dirs[0].rename(tmp_path / "photos")
    assert main(["train", "--out", str(out), "--resume", "--schedule", "32:4", "--device", "cpu"]) == 1
    assert f"the run's --content {dirs[0]} is not there (moved?): give --content" in capsys.readouterr().err
    assert main(["train", "--out", str(out), "--resume", "--schedule", "32:4", "--device", "cpu",
                 "--content", str(moved)]) == 0


def test_a_run_folder_is_kept_from_mistakes_and_its_log_from_doubled_steps(dirs, tmp_path, capsys):
    from vidstyle.cli.main import main

    out = tmp_path / "run"
    start = ["train", "--content", str(dirs[0]), "--style", str(dirs[1]), "--out", str(out), "--batch", "1",
             "--device", "cpu", "--checkpoint-every", "2"]
    assert main([*start, "--schedule", "32:3"]) == 0  # (checkpoint at steps 2 and 3)
    kept = {p.name: p.read_bytes() for p in out.iterdir()}
    # --overwrite removed the run first: a mistyped command then lost it
    for mistake in (["--content", str(tmp_path / "nowhere")], ["--content"] * 0):
        argv = ["train", "--out", str(out), "--overwrite", "--style", str(dirs[1]), "--device", "cpu",
                *mistake]
        assert main(argv) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == kept
    assert main([*start, "--resume", "--overwrite"]) == 1
    assert "give one of them" in capsys.readouterr().err
    # a crash after step 3's row but before its checkpoint: the step comes once
    import torch as torch_module
    state = torch_module.load(out / "checkpoint.pt", weights_only=True)
    state["step"] = 2  # (as if the last checkpoint were step 2's)
    torch_module.save(state, out / "checkpoint.pt")
    assert main(["train", "--out", str(out), "--resume", "--device", "cpu"]) == 0
    assert [r["step"] for r in csv.DictReader(open(out / "log.csv"))] == ["1", "2", "3"]
    # weights and a log without a checkpoint are a run too: not replaced unasked, not gone on from
    (out / "checkpoint.pt").unlink()
    assert main([*start, "--schedule", "32:1"]) == 1
    assert "holds a run already (log.csv)" in capsys.readouterr().err
    assert main(["train", "--out", str(out), "--resume", "--device", "cpu"]) == 1
    assert "but no checkpoint.pt to go on from" in capsys.readouterr().err
    assert main([*start, "--schedule", "32:1", "--overwrite"]) == 0
    assert [r["step"] for r in csv.DictReader(open(out / "log.csv"))] == ["1"]
    # the other command's run
    assert main(["distill", "--out", str(out), "--resume", "--device", "cpu"]) == 1
    assert "holds a run of 'vidstyle train': go on with that command" in capsys.readouterr().err


def test_distill_resume_keeps_the_runs_widths_teacher_and_weights(dirs, tmp_path, capsys):
    from vidstyle.cli.main import main

    out = tmp_path / "run"
    assert main(["distill", "--content", str(dirs[0]), "--style", str(dirs[1]), "--out", str(out),
                 "--batch", "1", "--device", "cpu", "--schedule", "32:1", "--widths", "8,16,32",
                 "--style-weight", "0.3", "--feature-weight", "0.05"]) == 0
    assert main(["distill", "--out", str(out), "--resume", "--schedule", "32:2", "--device", "cpu"]) == 0
    settings = _checkpoint_config(out)
    kept = (settings["widths"], settings["style_weight"], settings["feature_weight"])
    assert kept == ([8, 16, 32], 0.3, 0.05)
    assert "style" in open(out / "log.csv").readline()  # (the style column: the term is still on)
    # the style term turned off going on: its column stays, empty (rows were a column short)
    assert main(["distill", "--out", str(out), "--resume", "--schedule", "32:3", "--device", "cpu",
                 "--style-weight", "0"]) == 0
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [(r["step"], bool(r["style"]), float(r["seconds"]) < 60) for r in rows] == [
        ("1", True, True), ("2", True, True), ("3", False, True)]
    assert None not in rows[-1]


def test_going_on_does_not_read_the_init_weights_and_says_a_changed_teacher(dirs, tmp_path, caplog,
                                                                            random_decoder):
    """The checkpoint's weights replace --init's: a run whose --init file had moved could not
    go on. A new shipped decoder (the default teacher) changes the teacher of a run going on."""
    from vidstyle.cli.main import main
    from vidstyle.decoder import default_weights_path

    init = tmp_path / "init.safetensors"
    init.write_bytes(default_weights_path().read_bytes())
    out = tmp_path / "run"
    assert main(["train", "--content", str(dirs[0]), "--style", str(dirs[1]), "--out", str(out),
                 "--batch", "1", "--device", "cpu", "--schedule", "32:1", "--init", str(init)]) == 0
    init.unlink()
    assert main(["train", "--out", str(out), "--resume", "--schedule", "32:2", "--device", "cpu"]) == 0
    teacher = tmp_path / "teacher.safetensors"
    random_decoder.save(teacher)
    d_out = tmp_path / "lite"
    assert main(["distill", "--content", str(dirs[0]), "--style", str(dirs[1]), "--out", str(d_out),
                 "--batch", "1", "--device", "cpu", "--schedule", "32:1", "--widths", "8,8,8",
                 "--teacher", str(teacher)]) == 0
    torch.manual_seed(1)
    Decoder().save(teacher)  # (a new stage of the teacher, under its name)
    caplog.clear()
    assert main(["distill", "--out", str(d_out), "--resume", "--schedule", "32:2", "--device", "cpu"]) == 0
    assert "the teacher's weights" in caplog.text and "are not those the run learned from" in caplog.text



def test_config_to_go_on_takes_the_command_s_machine_settings_and_paths_from_where_the_run_began(tmp_path):
    from vidstyle.distill import DistillConfig
    from vidstyle.run_folder import RunRecord, config_to_go_on

    run = {"content_dir": "c", "style_dir": "/data/s", "out_dir": "old", "schedule": [[128, 10]],
           "device": "cuda", "max_minutes": 30.0, "widths": [8, 16, 32], "lr": 1e-4,
           "a_setting_of_a_later_version": 1}
    config, changes = config_to_go_on(DistillConfig, RunRecord(run, 7, str(tmp_path / "lab")),
                                      {"out_dir": "new", "device": "cpu", "max_minutes": None, "lr": 1e-4})
    assert (config.out_dir, config.device, config.max_minutes) == ("new", "cpu", None)
    assert config.schedule == [(128, 10)] and config.widths == (8, 16, 32) and changes == []
    assert (config.content_dir, config.style_dir) == (str(tmp_path / "lab" / "c"), "/data/s")
    assert config.history == []
    # what going on changes is kept with the run; its model's shape is not changed
    config, changes = config_to_go_on(DistillConfig, RunRecord(run, 7, None),
                                      {"out_dir": "new", "lr": 5e-5, "widths": (8, 8, 8), "content_dir": "c2"})
    assert (config.lr, config.widths, config.content_dir) == (5e-5, (8, 16, 32), "c2")
    assert [(c.name, c.kept_because) for c in changes] == [
        ("lr", None), ("widths", "is the model's shape"), ("content_dir", None)]
    assert config.history == [{"step": 7, "changed": {"lr": [1e-4, 5e-5], "content_dir": ["c", "c2"]}}]
