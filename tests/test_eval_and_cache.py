import torch

from vidstyle.evaluate import Scorer, evaluate, make_grid, summarise
from vidstyle.style_cache import StyleCache


def test_scores_of_the_unstylized_content_and_of_a_perfect_match(raw_encoder):
    scorer = Scorer(raw_encoder)
    g = torch.Generator().manual_seed(0)
    content, style = torch.rand(3, 40, 48, generator=g), torch.rand(3, 40, 48, generator=g) ** 3
    same = scorer.score(content.clone(), content, style)
    assert same["content_loss"] == 0.0
    assert abs(same["style_gap"] - 1.0) < 1e-5  # unstylized = 1 by definition
    to_style = scorer.score(style.clone(), content, style)
    assert to_style["style_gap"] < 1e-6 and to_style["style_loss"] < 1e-6
    assert to_style["content_loss"] > 0


def test_scorer_never_mixes_up_inputs_made_and_dropped_one_after_another(raw_encoder):
    # Python reuses a freed object's id: the feature cache must not answer for a new image.
    scorer = Scorer(raw_encoder)
    g = torch.Generator().manual_seed(1)
    style = torch.rand(3, 32, 32, generator=g)
    for _ in range(4):
        content = torch.rand(3, 32, 32, generator=g)
        assert scorer.score(content.clone(), content, style)["content_loss"] == 0.0
        del content


def test_scorer_sees_a_tensor_refilled_in_place_as_a_new_image_and_keeps_few(raw_encoder):
    scorer = Scorer(raw_encoder)
    g = torch.Generator().manual_seed(2)
    style, content = torch.rand(3, 32, 32, generator=g), torch.rand(3, 32, 32, generator=g)
    output = content.clone()
    assert scorer.score(output, content, style)["content_loss"] == 0.0
    content.copy_(torch.rand(3, 32, 32, generator=g))  # a frame loop's reused buffer
    assert scorer.score(output, content, style)["content_loss"] > 0
    for _ in range(Scorer.CACHED + 5):
        scorer.score(output, torch.rand(3, 32, 32, generator=g), style)
    assert len(scorer._cache) == Scorer.CACHED  # (it kept every content: 2 GB for 40 frames)


def test_evaluate_runs_every_pair_and_builds_a_grid(raw_encoder):
    contents = [("c0", torch.rand(3, 32, 40)), ("c1", torch.rand(3, 40, 32))]
    styles = [("s0", torch.rand(3, 32, 32)), ("s1", torch.rand(3, 24, 36)), ("s2", torch.rand(3, 32, 32))]
    calls = []
    scores, outputs = evaluate(lambda c, s: calls.append(c) or c, contents, styles, Scorer(raw_encoder))
    assert len(scores) == 6 and len(outputs) == 2 and len(outputs[0]) == 3
    assert len(calls) == 7  # (once first to warm the method: its set-up timed as the first pair's)
    assert summarise(scores)["style_gap"] > 0.99
    grid = make_grid(contents, styles, outputs, tile=16, pad=2)
    assert grid.shape == (3, 3 * 18 + 2, 4 * 18 + 2)


def test_style_cache_computes_each_style_once_across_runs(tmp_path, stylizer, style_png):
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    a = cache.stats_for_path(style_png)
    b = cache.stats_for_path(style_png)
    assert cache.computed == 1 and a is b
    renamed = tmp_path / "renamed.png"
    renamed.write_bytes(style_png.read_bytes())
    fresh = StyleCache(stylizer.style_stats, tmp_path / "cache")  # a new run: disk cache
    c = fresh.stats_for_path(renamed)  # same bytes, other name: still a hit
    assert fresh.computed == 0
    assert torch.equal(c.mean, a.mean) and torch.equal(c.std, a.std)
    assert a.mean.dtype == torch.float32 and a.mean.shape == (512,)


def test_a_style_asked_for_again_is_hashed_again_only_when_changed(tmp_path, stylizer, style_png,
                                                                   monkeypatch):
    import os

    import vidstyle.style_cache

    hashed = []
    real_digest = vidstyle.style_cache.file_digest
    monkeypatch.setattr(vidstyle.style_cache, "file_digest", lambda p: hashed.append(p) or real_digest(p))
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    for _ in range(5):  # (per frame from the Python API: 11 ms a call for a 17 MB scan)
        cache.stats_for_path(style_png)
    assert len(hashed) == 1
    style_png.write_bytes(style_png.read_bytes() + b"\0" * 8)  # edited: another version
    os.utime(style_png, ns=(1, 10**18))
    cache.at_size(256).stats_for_path(style_png)
    cache.stats_for_path(style_png)
    assert len(hashed) == 2  # (the other size shares what was hashed)
