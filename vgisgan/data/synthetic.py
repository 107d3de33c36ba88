"""A seeded generator of surveillance-like video that needs no download.

The scene: a lawn with a horizontal walkway across it, seen from above at an angle. Normal video has
pedestrians walking along the walkway in both directions at ordinary speeds, plus sensor noise and a slow
lighting drift. Test videos add labelled abnormal events a motion-aware model can find: a runner, a fast
vehicle-like block, someone crossing the lawn, an object falling. A frame is abnormal while an abnormal
object is visible in it (its pixel mask is kept too, for layouts such as Avenue that store masks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from vgisgan.config import SyntheticConfig

LAWN = np.array([0.30, 0.48, 0.22])
WALK = np.array([0.62, 0.60, 0.56])
EVENTS = ("runner", "vehicle", "lawn-crossing", "falling-object")


@dataclass
class Video:
    name: str
    frames: np.ndarray  # (L, H, W, 3) uint8 RGB
    labels: np.ndarray | None = None  # (L,) 0/1
    masks: np.ndarray | None = None  # (L, H, W) bool
    events: list[str] = field(default_factory=list)


@dataclass
class Mover:
    """Something that moves in a straight line (with optional gravity) and is drawn each frame."""

    x: float
    y: float
    vx: float
    vy: float
    w: float
    h: float
    color: np.ndarray
    shape: str  # "person" or "block"
    abnormal: bool = False
    ay: float = 0.0
    phase: float = 0.0

    def step(self) -> None:
        self.x += self.vx
        self.y += self.vy
        self.vy += self.ay
        self.phase += abs(self.vx) + abs(self.vy)


def _background(rng: np.random.Generator, s: int) -> tuple[np.ndarray, tuple[int, int]]:
    top, bottom = int(0.42 * s), int(0.68 * s)
    img = np.empty((s, s, 3))
    img[:] = LAWN
    img[top:bottom] = WALK
    grain = cv2.GaussianBlur(rng.normal(0, 1, (s, s)).astype(np.float32), (0, 0), max(s / 64, 0.6))
    img += 0.06 * grain[..., None]
    for y in range(top, bottom, max(s // 16, 2)):  # paving seams give the walkway texture
        img[y, :] *= 0.9
    return np.clip(img, 0, 1), (top, bottom)


def _draw(img: np.ndarray, mask: np.ndarray, m: Mover, s: int) -> None:
    sh = 4  # cv2 sub-pixel bits: positions move smoothly instead of jumping whole pixels
    k = 1 << sh
    cx, cy = int(m.x * k), int(m.y * k)
    color = tuple(float(c) for c in m.color)
    if m.shape == "block":
        p1 = (int((m.x - m.w / 2) * k), int((m.y - m.h / 2) * k))
        p2 = (int((m.x + m.w / 2) * k), int((m.y + m.h / 2) * k))
        cv2.rectangle(img, p1, p2, color, -1, cv2.LINE_AA, sh)
        if m.abnormal:
            cv2.rectangle(mask, p1, p2, 1, -1, cv2.LINE_8, sh)
        return
    body = (max(int(m.w / 2 * k), 1), max(int(m.h / 2 * k), 1))
    cv2.ellipse(img, (cx, cy), body, 0, 0, 360, color, -1, cv2.LINE_AA, sh)
    head = (cx, int((m.y - m.h / 2 - m.w * 0.35) * k))
    cv2.circle(img, head, max(int(m.w * 0.4 * k), 1), (0.85, 0.72, 0.6), -1, cv2.LINE_AA, sh)
    swing = np.sin(m.phase * 0.9) * m.w * 0.5  # legs alternate as the person moves
    for sign in (-1, 1):
        foot = (int((m.x + sign * swing) * k), int((m.y + m.h * 0.75) * k))
        cv2.line(img, (cx, int((m.y + m.h * 0.3) * k)), foot, (0.15, 0.15, 0.2), max(s // 64, 1), cv2.LINE_AA, sh)
    if m.abnormal:
        cv2.ellipse(mask, (cx, cy), body, 0, 0, 360, 1, -1, cv2.LINE_8, sh)


def _pedestrian(rng: np.random.Generator, s: int, walk: tuple[int, int], speed: float) -> Mover:
    direction = rng.choice([-1.0, 1.0])
    u = s / 64  # speeds and sizes are given for a 64-pixel frame and scale with it
    return Mover(
        x=-4 * u if direction > 0 else s + 4 * u,
        y=rng.uniform(walk[0] + 3 * u, walk[1] - 4 * u),
        vx=direction * speed * u,
        vy=0.0,
        w=3.0 * u,
        h=7.0 * u,
        color=rng.uniform(0.05, 0.5, 3),
        shape="person",
        phase=rng.uniform(0, 6),
    )


def _abnormal(kind: str, rng: np.random.Generator, s: int, walk: tuple[int, int]) -> Mover:
    u = s / 64
    if kind == "runner":
        m = _pedestrian(rng, s, walk, speed=rng.uniform(2.6, 3.4))
    elif kind == "vehicle":
        m = _pedestrian(rng, s, walk, speed=rng.uniform(2.0, 2.8))
        m.shape, m.w, m.h, m.color = "block", 14 * u, 8 * u, rng.uniform(0.7, 0.95, 3)
    elif kind == "lawn-crossing":
        m = _pedestrian(rng, s, walk, speed=0.0)
        m.x, m.vy = rng.uniform(0.2 * s, 0.8 * s), 0.8 * u
        m.y = -6 * u
    else:  # falling-object
        m = _pedestrian(rng, s, walk, speed=0.0)
        m.shape, m.w, m.h = "block", 4 * u, 4 * u
        m.x, m.y, m.vy, m.ay = rng.uniform(0.2 * s, 0.8 * s), -3 * u, 0.3 * u, 0.12 * u
        m.color = np.array([0.9, 0.2, 0.1])
    m.abnormal = True
    return m


def render_video(
    rng: np.random.Generator, s: int, length: int, events: list[tuple[str, int]] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One video: (frames uint8 (L, s, s, 3), labels (L,), masks (L, s, s) bool)."""
    bg, walk = _background(rng, s)
    movers: list[Mover] = []
    for _ in range(rng.integers(1, 3)):  # a few people already on the walkway
        p = _pedestrian(rng, s, walk, speed=rng.uniform(0.4, 0.9))
        p.x = rng.uniform(0, s)
        movers.append(p)
    starts = dict((start, kind) for kind, start in (events or []))
    frames = np.empty((length, s, s, 3), np.uint8)
    masks = np.zeros((length, s, s), bool)
    drift_period, drift_phase = rng.uniform(80, 200), rng.uniform(0, 2 * np.pi)
    for t in range(length):
        if rng.random() < 0.04:
            movers.append(_pedestrian(rng, s, walk, speed=rng.uniform(0.4, 0.9)))
        if t in starts:
            movers.append(_abnormal(starts[t], rng, s, walk))
        img = bg.copy()
        mask = np.zeros((s, s), np.uint8)
        for m in sorted(movers, key=lambda m: m.y):  # nearer (lower) people are drawn last
            _draw(img, mask, m, s)
            m.step()
        movers = [m for m in movers if -20 * s / 64 < m.x < s + 20 * s / 64 and m.y < s + 10 * s / 64]
        gain = 1.0 + 0.05 * np.sin(2 * np.pi * t / drift_period + drift_phase)
        img = img * gain + rng.normal(0, 0.015, img.shape)
        frames[t] = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
        masks[t] = mask > 0
    labels = masks.reshape(length, -1).any(axis=1).astype(np.uint8)
    return frames, labels, masks


def make_dataset(cfg: SyntheticConfig) -> tuple[list[Video], list[Video]]:
    """Train videos (normal only) and test videos (with one or two abnormal events each)."""
    rng = np.random.default_rng(cfg.seed)
    train = []
    for i in range(cfg.train_videos):
        frames, _, _ = render_video(rng, cfg.size, cfg.length)
        train.append(Video(f"{i + 1:02d}", frames))
    test = []
    for i in range(cfg.test_videos):
        n_events = 1 + (i % 2)
        kinds = [EVENTS[(i + j) % len(EVENTS)] for j in range(n_events)]
        slots = np.linspace(cfg.length * 0.15, cfg.length * 0.75, n_events + 1)[:n_events]
        events = [(k, int(s + rng.integers(0, max(cfg.length // 10, 1)))) for k, s in zip(kinds, slots)]
        frames, labels, masks = render_video(rng, cfg.size, cfg.length, events)
        test.append(Video(f"{i + 1:02d}", frames, labels, masks, kinds))
    return train, test
