"""The paper's run-time controls: alpha, interpolation, colour preservation, masks."""
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import damage_packets, write_clip, write_grey_levels
from vidstyle.adain import StyleStats, adain, calc_mean_std, masked_adain
from vidstyle.color import ColorKeeper, color_moments, match_colors, rgb_to_yuv
from vidstyle.controls import Controls, target_source
from vidstyle.errors import VidstyleError
from vidstyle.images import load_image
from vidstyle.pipeline import convert_video
from vidstyle.stills import stylize_image
from vidstyle.style_cache import StyleCache
from vidstyle.stylizer import Target

REPO = Path(__file__).resolve().parent.parent


def feats(seed, n=1, c=6, h=8, w=10):
    return torch.randn(n, c, h, w, generator=torch.Generator().manual_seed(seed)) * 2 + 1


def test_binary_mask_gives_each_region_the_statistics_of_its_style():
    f = feats(0)
    a_mean, a_std = calc_mean_std(feats(1))
    b_mean, b_std = calc_mean_std(feats(2) * 5 - 3)
    mask = torch.zeros(1, 1, 8, 10)
    mask[..., :, :4] = 1  # left 4 columns: style a
    out = masked_adain(f, mask, a_mean, a_std, b_mean, b_std)
    left, right = out[..., :4], out[..., 4:]
    for region, mean, std in ((left, a_mean, a_std), (right, b_mean, b_std)):
        m, s = calc_mean_std(region)
        assert torch.allclose(m, mean, atol=1e-4)
        assert torch.allclose(s, std, atol=1e-3)


def test_uniform_soft_mask_blends_the_two_targets():
    f = feats(0)
    a = calc_mean_std(feats(1))
    b = calc_mean_std(feats(2))
    out = masked_adain(f, torch.full((1, 1, 8, 10), 0.25), *a, *b)
    expected = 0.25 * adain(f, *a) + 0.75 * adain(f, *b)
    assert torch.allclose(out, expected, atol=1e-4)


def test_alpha_zero_through_the_shipped_decoder_gives_back_the_content(trained_stylizer):
    stylizer = trained_stylizer
    content = load_image(REPO / "samples" / "landscape.png")
    style = stylizer.style_stats(load_image(REPO / "samples" / "styles" / "strokes.png"))

    def psnr(out):
        return float(10 * torch.log10(1 / ((out - content) ** 2).mean()))

    kept = psnr(stylize_image(content, stylizer, Target(style, alpha=0.0)))
    styled = psnr(stylize_image(content, stylizer, Target(style, alpha=1.0)))
    assert kept > 13.0 and kept > styled + 2.0, (kept, styled)


def test_match_colors_gives_the_content_colour_moments():
    g = torch.Generator().manual_seed(0)
    style = 0.3 + 0.4 * torch.rand(3, 32, 32, generator=g)
    content = torch.rand(3, 20, 20, generator=g) * torch.tensor([0.3, 0.2, 0.25]).view(3, 1, 1) + 0.3
    c_mean, c_cov = color_moments(content)
    matched = match_colors(style, c_mean, c_cov)
    m_mean, m_cov = color_moments(matched)
    assert torch.allclose(m_mean, c_mean, atol=1e-3)
    assert torch.allclose(m_cov, c_cov, atol=1e-3)


def test_colour_reference_is_refreshed_only_on_scene_changes():
    calls = []

    def encode(img):
        calls.append(img)
        return StyleStats(torch.zeros(4), torch.ones(4))

    keeper = ColorKeeper([torch.rand(3, 16, 16)], [1.0], "match", encode, scene_threshold=0.1)
    rng = np.random.default_rng(0)
    scene1 = (rng.random((1, 24, 24, 3)) * 60 + 40).astype(np.uint8)
    for k in range(5):  # small changes within a scene: no pumping
        keeper.stats_for(np.clip(scene1.astype(int) + k, 0, 255).astype(np.uint8))
    assert keeper.refreshes == 1
    keeper.stats_for((rng.random((1, 24, 24, 3)) * 60 + 180).astype(np.uint8))  # a cut
    assert keeper.refreshes == 2 and len(calls) == 2


def test_luminance_only_keeps_the_content_chroma(trained_stylizer):
    stylizer = trained_stylizer
    g = torch.Generator().manual_seed(1)
    content = 0.35 + 0.3 * torch.rand(3, 32, 40, generator=g)
    stats = stylizer.style_stats(torch.rand(3, 32, 32, generator=g))
    out = stylize_image(content, stylizer, Target(stats, luminance_only=True))
    uv_in, uv_out = rgb_to_yuv(content)[1:], rgb_to_yuv(out)[1:]
    clipped = (out <= 0.001).any(0) | (out >= 0.999).any(0)
    assert (uv_in - uv_out)[:, ~clipped].abs().max() < 0.02
    assert not torch.allclose(rgb_to_yuv(content)[0], rgb_to_yuv(out)[0], atol=0.05)


@pytest.fixture
def styles(tmp_path):
    paths = []
    for i, colour in enumerate([(200, 40, 40), (30, 60, 200)]):
        rng = np.random.default_rng(i)
        img = np.clip(np.array(colour) + rng.normal(0, 30, (32, 32, 3)), 0, 255).astype(np.uint8)
        paths.append(tmp_path / f"s{i}.png")
        Image.fromarray(img).save(paths[-1])
    return paths


def test_controls_validation(styles, tmp_path):
    with pytest.raises(VidstyleError, match="1 weight given for 2 styles"):
        Controls(styles, [1.0]).validate()
    with pytest.raises(VidstyleError, match="non-negative"):
        Controls(styles, [1.0, -1.0]).validate()
    mask = tmp_path / "m.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(mask)
    with pytest.raises(VidstyleError, match="exactly two styles"):
        Controls(styles[:1], mask=mask).validate()
    with pytest.raises(VidstyleError, match="cannot be combined"):
        Controls(styles, [1, 1], mask=mask).validate()


def test_interpolated_target_is_the_weighted_combination(styles, stylizer, tmp_path):
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    target_for, _ = target_source(Controls(styles, [7, 3]), cache, stylizer.style_stats)
    t = target_for(0, np.zeros((1, 8, 8, 3), np.uint8))
    a, b = (cache.stats_for_path(p) for p in styles)
    assert torch.allclose(t.stats.mean, 0.7 * a.mean + 0.3 * b.mean, atol=1e-5)
    assert torch.allclose(t.stats.std, 0.7 * a.std + 0.3 * b.std, atol=1e-5)


def test_mask_image_splits_the_frame_between_two_styles(styles, trained_stylizer, tmp_path):
    stylizer = trained_stylizer
    mask = np.zeros((48, 64), np.uint8)
    mask[:, :32] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    target_for, _ = target_source(Controls(styles, mask=tmp_path / "mask.png"), cache, stylizer.style_stats)
    frames = np.full((1, 48, 64, 3), 128, np.uint8)
    out = stylizer.stylize_frames(frames, target_for(0, frames))[0].astype(float)
    only_a = stylizer.stylize_frames(frames, Target(cache.stats_for_path(styles[0])))[0].astype(float)
    only_b = stylizer.stylize_frames(frames, Target(cache.stats_for_path(styles[1])))[0].astype(float)
    inner_left, inner_right = (slice(8, 40), slice(4, 20)), (slice(8, 40), slice(44, 60))

    def distance(a, b, area):
        return np.abs(a[area] - b[area]).mean()

    assert distance(out, only_a, inner_left) < distance(out, only_b, inner_left)
    assert distance(out, only_b, inner_right) < distance(out, only_a, inner_right)


def test_mask_video_and_colour_preservation_in_file_mode(styles, stylizer, tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", n=6, audio=False)
    mask_clip = write_clip(tmp_path / "mask.mp4", n=6, audio=False)
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    target_for, close = target_source(Controls(styles, mask=mask_clip, color="match"), cache,
                                      stylizer.style_stats)
    report = convert_video(clip, tmp_path / "out.mp4", stylizer, target_for, batch=4)
    close(finished=True)
    assert report.frames == 6
    short = write_clip(tmp_path / "short.mp4", n=2, audio=False)
    target_for, close = target_source(Controls(styles, mask=short), cache, stylizer.style_stats)
    with pytest.raises(VidstyleError, match=r"short.mp4 is shorter than the input: it ends at 0\.08 s$"):
        convert_video(clip, tmp_path / "out2.mp4", stylizer, target_for)
    close()
    assert not (tmp_path / "out2.mp4").exists()
    # a mask of the input's length whose damage ran it out of frames says so
    damaged = write_clip(tmp_path / "damaged.mp4", n=6, audio=False)
    damage_packets(damaged, [3, 4])
    target_for, close = target_source(Controls(styles, mask=damaged), cache, stylizer.style_stats)
    with pytest.raises(VidstyleError, match=r"shorter than the input: .*, where 2 damaged packet\(s\) could"):
        convert_video(clip, tmp_path / "out3.mp4", stylizer, target_for)
    close()


def test_webcam_colour_toggle_runs_in_the_background(styles, stylizer, tmp_path):
    from vidstyle.live import LiveControls

    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    controls = LiveControls(cache, styles, encode=stylizer.style_stats)
    frames = np.full((1, 32, 32, 3), 90, np.uint8)
    plain = controls.target(frames)
    controls.on_key(ord("c"))
    controls.target(frames)
    controls._color_job.join(timeout=30)
    kept = controls.target(frames)
    assert not torch.equal(kept.stats.mean, plain.stats.mean)
    assert "colours kept" in controls.overlay()[0]


@pytest.mark.parametrize("mode", ["match", "luminance"])
def test_webcam_style_switch_with_colours_kept_fades_once_to_the_final_picture(styles, stylizer, tmp_path,
                                                                                mode):
    """The new style waits for its colour-matched statistics: no detour through its own
    colours, and in luminance mode no full-colour flash."""
    from vidstyle.live import LiveControls

    now = [0.0]
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    controls = LiveControls(cache, styles, encode=stylizer.style_stats, color=mode, transition=1.0,
                            clock=lambda: now[0])
    controls._worker.join(timeout=30)
    frames = np.full((1, 32, 32, 3), 90, np.uint8)
    controls.target(frames)
    controls._color_job.join(timeout=30)
    old = controls.target(frames)
    controls.on_key(ord("n"))
    waiting = controls.target(frames)  # style 1's colour statistics are being computed
    assert torch.equal(waiting.stats.mean, old.stats.mean) and waiting.luminance_only == old.luminance_only
    assert "loading" in " ".join(controls.overlay())
    controls._color_job.join(timeout=30)
    new = controls._color_stats[(1, mode)]
    assert torch.equal(controls.target(frames).stats.mean, old.stats.mean)  # the fade starts here
    now[0] = 0.5
    half = controls.target(frames)
    torch.testing.assert_close(half.stats.mean, 0.5 * old.stats.mean + 0.5 * new.mean)
    assert half.luminance_only == (mode == "luminance")
    now[0] = 1.0
    assert controls.target(frames).stats is new


def test_a_mask_video_longer_than_the_input_is_used_with_a_warning(styles, stylizer, tmp_path, caplog):
    clip = write_clip(tmp_path / "clip.mp4", n=4, audio=False)
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    for frames, finished, warned in [(4, True, False), (9, True, True), (9, False, False)]:
        caplog.clear()
        mask_clip = write_clip(tmp_path / f"mask{frames}.mp4", n=frames, audio=False)
        target_for, close = target_source(Controls(styles, mask=mask_clip), cache, stylizer.style_stats)
        assert convert_video(clip, tmp_path / "out.mp4", stylizer, target_for, overwrite=True).frames == 4
        close(finished)  # not finished: an error or Ctrl-C ended the input early, no warning then
        assert ("longer than the input" in caplog.text) == warned



def mask_levels(masks: torch.Tensor) -> list:
    """Which grey level (in steps of 20) each mask has."""
    return [round(float(m.mean()) * 255 / 20) for m in masks]


@pytest.mark.parametrize("mask_fps, want", [(48, [0, 2, 4, 6, 8, 10]), (12, [0, 0, 1, 1, 2, 2]),
                                            (24, [0, 1, 2, 3, 4, 5])])
def test_a_mask_video_at_another_frame_rate_is_matched_by_time(tmp_path, mask_fps, want):
    from vidstyle.controls import MaskVideo

    mask = write_grey_levels(tmp_path / "mask.mp4", [20 * j for j in range(12)], mask_fps)
    masks = MaskVideo(mask)
    try:
        masks.follow_time(lambda i: i / 24, 1 / 24)
        assert mask_levels(torch.cat([masks.masks_for(0, 4), masks.masks_for(4, 2)])) == want
    finally:
        masks.close()


def test_a_mask_video_matched_by_time_follows_a_cut_and_ends_where_its_last_frame_ends(tmp_path):
    from vidstyle.controls import MaskVideo
    from vidstyle.sources import Segment

    mask = write_grey_levels(tmp_path / "mask.mp4", [20 * j for j in range(5)], 12)  # 5/12 s
    masks = MaskVideo(mask, Segment(0.125, 0.25))
    try:  # the input's own times from 0.125 s on, inside the mask's frame 1 (1/12 s to 2/12 s)
        masks.follow_time(lambda i: 0.125 + i / 24, 1 / 24)
        assert mask_levels(masks.masks_for(0, 4)) == [1, 2, 2, 3]
    finally:
        masks.close()
    masks = MaskVideo(mask)
    try:
        masks.follow_time(lambda i: i / 24, 1 / 24)
        assert mask_levels(masks.masks_for(0, 10)) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
        with pytest.raises(VidstyleError, match="shorter than the input"):  # 10/24 s: past its end
            masks.masks_for(10, 1)
    finally:
        masks.close()


def test_convert_takes_a_mask_video_at_half_the_frame_rate(styles, stylizer, tmp_path, caplog):
    """Refused as too short while masks were matched by count; by time it covers the input,
    and one longer by more than a frame is still said to be longer."""
    clip = write_clip(tmp_path / "clip.mp4", n=12, fps=24, audio=False)
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    for frames, longer in [(6, False), (8, True)]:
        caplog.clear()
        mask = write_grey_levels(tmp_path / f"mask{frames}.mp4", [40 * (j % 2) for j in range(frames)], 12)
        target_for, close = target_source(Controls(styles, mask=mask), cache, stylizer.style_stats)
        try:
            report = convert_video(clip, tmp_path / "out.mp4", stylizer, target_for, batch=5, overwrite=True)
        finally:
            close(finished=True)
        assert report.frames == 12
        assert ("longer than the input" in caplog.text) == longer


def test_a_live_feeds_mask_video_plays_at_its_own_speed_and_loops(styles, stylizer, tmp_path):
    """Not one mask frame per shown frame (slow motion, then 'shorter than the input' after
    a few seconds of a show), but the frame on screen by the wall clock, round and round."""
    from vidstyle.controls import live_target

    mask = write_grey_levels(tmp_path / "mask.mp4", [20 * j for j in range(6)], 12)  # 0.5 s
    cache = StyleCache(stylizer.style_stats, tmp_path / "cache")
    target_for, close = target_source(Controls(styles, mask=mask), cache, stylizer.style_stats)
    now = [100.0]
    live = live_target(target_for, clock=lambda: now[0])
    frames = np.zeros((1, 24, 32, 3), np.uint8)
    seen = []
    try:
        for step in range(12):  # 8 frames a second for 1.5 s: three rounds of the mask
            seen += mask_levels(live(frames).mask)
            now[0] += 0.125
    finally:
        close()
    assert seen == [0, 1, 3, 4] * 3


def test_an_image_of_a_videos_frame_takes_the_mask_videos_frame_at_that_time(styles, trained_stylizer,
                                                                              tmp_path):
    from vidstyle.stills import stylize_image_file

    clip = write_clip(tmp_path / "clip.mp4", n=12, audio=False)
    mask = write_grey_levels(tmp_path / "mask.mp4", [255 * (j % 2) for j in range(6)], 12)  # black, white
    cache = StyleCache(trained_stylizer.style_stats, tmp_path / "cache")
    results = {}
    for name, mask_file in [("video", mask), ("white", None), ("black", None)]:
        if mask_file is None:
            mask_file = tmp_path / f"{name}.png"
            Image.fromarray(np.full((24, 32), 255 if name == "white" else 0, np.uint8)).save(mask_file)
        controls = Controls(styles, mask=mask_file)
        target_for, close = target_source(controls, cache, trained_stylizer.style_stats)
        out = stylize_image_file(clip, tmp_path / f"{name}.png.out.png", trained_stylizer, target_for, at=0.1)
        close()
        results[name] = np.asarray(Image.open(out), dtype=float)
    # 0.1 s is inside the mask's frame 1 (white): the first style everywhere.
    assert np.abs(results["video"] - results["white"]).mean() < 1.0
    assert np.abs(results["video"] - results["black"]).mean() > 5.0


def test_a_mask_at_the_inputs_rate_pairs_frame_with_frame(tmp_path):
    """AVI stores its first frame a frame late and NTSC footage (29.97) gets masks rendered
    at 30: by time these would drift a frame, or run short; at one rate they pair by count."""
    from vidstyle.controls import MaskVideo

    mask = write_grey_levels(tmp_path / "mask.avi", [20 * j for j in range(12)], 24)
    masks = MaskVideo(mask)
    try:
        masks.follow_time(lambda i: i * 1001 / 24000, 1001 / 24000)  # 23.976 input: within 1%
        assert mask_levels(masks.masks_for(0, 12)) == list(range(12))
        assert not masks.frames_left()
    finally:
        masks.close()


def test_a_mask_frame_held_past_the_lead_is_found_for_a_cut(tmp_path):
    """A variable-rate mask whose frame 1 stays on screen from 0.5 s to 3 s."""
    from vidstyle.controls import MaskVideo
    from vidstyle.sources import Segment

    path = write_grey_levels(tmp_path / "held.mkv", [20 * j for j in range(5)], 25,
                             times_ms=[0, 500, 3000, 3040, 3080])
    masks = MaskVideo(path, Segment(2.2, 1.0))
    try:
        masks.follow_time(lambda i: 2.2 + i / 10, 1 / 10)
        assert mask_levels(masks.masks_for(0, 10)) == [1] * 8 + [2, 4]
        assert not masks.frames_left()  # (a cut with an end: the mask going on is expected)
    finally:
        masks.close()


def test_a_mask_asked_for_nothing_is_not_longer_than_the_input(tmp_path):
    """A resumed run that found nothing left to convert asked for no mask: no warning."""
    from vidstyle.controls import MaskVideo

    masks = MaskVideo(write_grey_levels(tmp_path / "mask.mp4", [0] * 6, 12))
    try:
        assert not masks.frames_left()
    finally:
        masks.close()


def test_a_cut_inputs_frame_times_are_exact_on_a_coarse_time_base(tmp_path):
    """Image sequences count time in whole frames: the clock's origin for a cut must be the
    whole frames the cut moved the timestamps by, or its times are off by up to half a frame."""
    from vidstyle.frame_clock import FrameClock
    from vidstyle.sources import Segment, VideoFileSource

    frames = tmp_path / "frames"
    frames.mkdir()
    for j in range(30):
        Image.fromarray(np.full((24, 32, 3), 8 * j, np.uint8)).save(frames / f"shot_{j:04d}.png")
    with VideoFileSource(frames / "shot_%04d.png", segment=Segment(0.55, 0.3)) as source:
        clock = FrameClock(source.info.rate, origin=source.input_origin())
        got = [(clock.seconds(i), source.input_seconds(f.pts, f.time_base))
               for i, f in enumerate(clock.timed(source))]
    assert got and all(abs(a - b) < 1e-9 for a, b in got)
    assert got[0][1] == pytest.approx(0.56)  # frame 14 of 25 a second: the first that starts in the cut


def test_a_mask_frame_asked_for_late_is_read_from_near_its_time(tmp_path):
    """image VIDEO --at 1:05 decoded the mask from its start; now from a second before."""
    from vidstyle.controls import MaskVideo

    mask = write_grey_levels(tmp_path / "mask.mp4", [8 * j for j in range(30)], 12)  # 2.5 s
    masks = MaskVideo(mask)
    try:
        masks.follow_time(lambda i: 2.0, 0.0)
        assert round(float(masks.masks_for(0, 1).mean()) * 255 / 8) == 24
        assert masks._opened_at == pytest.approx(1.0)
    finally:
        masks.close()
    masks = MaskVideo(mask)
    try:
        masks.follow_time(lambda i: 9.0, 0.0)
        with pytest.raises(VidstyleError, match="shorter than the input"):
            masks.masks_for(0, 1)
    finally:
        masks.close()
