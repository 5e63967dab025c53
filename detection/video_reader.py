"""Video frame sampling with PyAV (FFmpeg): ``VideoReader``.

Frames are taken at a fixed rate (default 2 fps). On H.264 a seek decodes from the previous
keyframe, so with the usual multi-second GOPs seeking to every sample costs more than
walking the stream (measured with OpenCV: 20 seeks in a 300-frame clip took 10.8 s, walking
it 1.3 s). We walk it, but never decode a frame that is neither a sample nor a reference
of later frames: before each packet goes in, ``skip_frame`` says whether the frame it
carries lies within half a frame of a sample time (decode it) or not (``NONREF``: skip it
unless other frames refer to it). On x264's default output that leaves ~70 % of the frames
to decode (~55 % on the DFDC clip) and cuts decoding CPU by about a third, and on a
constant frame rate the samples are exactly the frames, with exactly the pixels, that
decoding everything gives. On a variable frame rate a sample time with no frame within
half a frame of it takes the next decoded frame, which may be a few frames later.
Where the container's frame rate is unusable, every frame is decoded and counted. Only
sampled frames are converted to RGB. Limits on duration, on packets read and on sampled
frames bound the work whatever the container claims about itself; a damaged stretch is
concealed by the decoder or ends the stream, as a truncated file does.

Every decode path here goes through the frame guard (``detection.frame_guard``): the header's
frame size proves nothing about later frames. All video decoding in the product (scans, intake
checks, watermark recovery, generation, console thumbnails and evidence frames) reads through
``VideoReader``, directly or through the helpers of ``detection.video``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from detection.errors import CorruptMedia, EmptyInput, ImageTooLarge, UnsupportedMedia, VideoTooLong
from detection.frame_guard import guard_frame, limit_decoder, refused_for_size

MIN_FPS, MAX_FPS = 1.0, 240.0  # declared rates outside this range are treated as broken
ASSUMED_FPS = 25.0  # used when neither the declared rate nor frame timestamps are usable


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float  # rate used for timestamps: the declared one, or ASSUMED_FPS when that is broken
    fps_reliable: bool
    frame_count: int | None  # as declared by the container; None when absent or absurd
    duration_s: float | None

    def to_dict(self) -> dict[str, object]:
        return {
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "fps_reliable": self.fps_reliable,
            "frame_count": self.frame_count,
            "duration_s": self.duration_s,
        }


def _rate(value: Fraction | None) -> float:
    return float(value) if value else 0.0


def _declared_fps(stream: Any) -> float:
    """The container's frame rate: the average rate, else the base (``r_frame_rate``) one."""
    return _rate(stream.average_rate) or _rate(stream.base_rate)


class VideoReader:
    """Opens a video file, validates it, and yields ``(frame_index, timestamp_s, rgb)`` samples.

    ``threads``: decoder threads (0: one per core).
    """

    def __init__(
        self,
        path: str | Path,
        fps: float = 2.0,
        max_seconds: float = 600.0,
        max_frames: int = 300,
        max_pixels: int = 50_000_000,
        threads: int = 0,
    ) -> None:
        if not fps > 0:
            raise ValueError("sampling fps must be positive")
        self.path = Path(path)
        self.sample_fps = float(fps)
        self.max_seconds = float(max_seconds)
        self.max_frames = int(max_frames)
        self.threads = int(threads)
        self.max_pixels = int(max_pixels)
        self.truncated = False  # set when max_frames stopped sampling before the end
        self.frames_decoded = 0  # frames the decoder produced (samples and the references they need)
        if self.path.stat().st_size == 0:
            raise EmptyInput()
        try:
            self._container = av.open(str(self.path), mode="r", metadata_errors="ignore")
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise CorruptMedia("The video container could not be opened or is damaged.") from exc
        try:
            self.info = self._probe(max_pixels)
        except Exception:
            self.close()
            raise

    def _probe(self, max_pixels: int) -> VideoInfo:
        streams = self._container.streams.video
        if not streams:
            raise CorruptMedia("The video container has no video stream.")
        self._stream = stream = streams[0]
        if stream.codec_context is None:  # FFmpeg has no decoder for it, or the track describes no codec
            raise UnsupportedMedia("The video stream's codec is unknown or not supported.")
        width, height = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
        if width <= 0 or height <= 0:
            raise CorruptMedia("The video has no video stream with valid dimensions.")
        if width * height > max_pixels:
            raise ImageTooLarge(f"Video frames are {width}×{height}; the pixel limit is {max_pixels:,}.")
        limit_decoder(stream.codec_context, max_pixels)  # later frames may not be the size the header says
        declared_fps = _declared_fps(stream)
        fps_reliable = math.isfinite(declared_fps) and MIN_FPS <= declared_fps <= MAX_FPS
        fps = declared_fps if fps_reliable else ASSUMED_FPS
        raw_count = float(stream.frames or 0)
        if raw_count <= 0 and fps_reliable:  # no frame count in the header: estimate it from the duration
            raw_count = math.floor(self._declared_duration() * declared_fps + 0.5)
        frame_count = int(raw_count) if math.isfinite(raw_count) and 0 < raw_count < 1e9 else None
        duration = frame_count / fps if frame_count is not None and fps_reliable else None
        if duration is not None and duration > self.max_seconds:
            raise VideoTooLong(f"The video lasts {duration:.1f} s; the limit is {self.max_seconds:.0f} s.")
        declared = self._declared_duration()  # also when the rate is broken and the count looks short
        if math.isfinite(declared) and declared > self.max_seconds + 1.0:
            raise VideoTooLong(f"The video declares {declared:.1f} s; the limit is {self.max_seconds:.0f} s.")
        if frame_count is not None and frame_count > self.max_grabs:
            raise VideoTooLong(f"The video has {frame_count:,} frames; the limit is {self.max_grabs:,}.")
        return VideoInfo(width, height, fps, fps_reliable, frame_count, duration)

    def _declared_duration(self) -> float:
        """Seconds, from the container, else from the stream; 0 when neither says."""
        if self._container.duration:
            return self._container.duration / av.time_base
        stream = self._stream
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        return 0.0

    @property
    def max_grabs(self) -> int:
        """Frames we are willing to read: the duration cap at the highest plausible rate."""
        return int(self.max_seconds * MAX_FPS)

    @property
    def step_s(self) -> float:
        """Seconds between samples; widened so that max_frames spans the whole known duration."""
        step = 1.0 / self.sample_fps
        duration = self.info.duration_s
        if duration is not None and duration / step >= self.max_frames:
            step = duration / self.max_frames
        return step

    @property
    def expected_samples(self) -> int | None:
        duration = self.info.duration_s
        if duration is None:
            return None
        return max(1, min(self.max_frames, math.ceil(duration / self.step_s - 1e-9)))

    @staticmethod
    def _near_sample(t: float, step: float, tolerance: float) -> bool:
        """Whether a frame at ``t`` is the one that sampling picks for some sample time ``k·step``,
        i.e. some ``k·step`` lies in ``(t - tolerance, t + tolerance]`` (regular frame spacing)."""
        k = math.floor((t + tolerance) / step + 1e-9)
        return k >= 0 and k * step > t - tolerance + 1e-9

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]:
        stream, context = self._stream, self._stream.codec_context
        stream.thread_type = "AUTO"  # frame and slice threads
        context.thread_count = self.threads
        info, step = self.info, self.step_s
        tolerance = 0.5 / info.fps  # half a frame: frames land on sample times despite rounding
        time_base = float(stream.time_base) if stream.time_base else 0.0
        start = stream.start_time
        skipping = info.fps_reliable and time_base > 0  # frame numbers come from timestamps
        next_t = 0.0
        index = -1
        packets = sampled = failed = 0
        demuxed = self._packets(stream)
        for packet in demuxed:
            flushing = packet.size == 0  # PyAV ends the stream with an empty packet: drain the decoder
            if not flushing:
                packets += 1
                if packets > self.max_grabs:
                    raise VideoTooLong(f"The video has more than {self.max_grabs:,} frames.")
                if skipping and packet.pts is not None:
                    if start is None:
                        start = packet.pts
                    tp = (packet.pts - start) * time_base
                    if tp > self.max_seconds + 1.0:
                        # The container under-declared its length: stop at the cap rather than decode it all.
                        raise VideoTooLong(f"The video lasts longer than {self.max_seconds:.0f} s.")
                    context.skip_frame = "DEFAULT" if self._near_sample(tp, step, tolerance) else "NONREF"
                else:  # no presentation time (a decode-order stamp would mislead): decode it
                    context.skip_frame = "DEFAULT"
            try:
                decoded = self._decode(context, None if flushing else packet)
            except av.FFmpegError:
                failed += 1  # a damaged packet; the decoder resynchronises on the next ones
                continue
            for frame in decoded:
                self.frames_decoded += 1
                guard_frame(frame, self.max_pixels)
                index, t = self._position(frame, index, start, time_base)
                if t > self.max_seconds + 1.0:
                    raise VideoTooLong(f"The video lasts longer than {self.max_seconds:.0f} s.")
                if t + tolerance < next_t:
                    continue
                while next_t <= t + tolerance:
                    next_t += step
                yield index, t, frame.to_ndarray(format="rgb24")
                sampled += 1
                if sampled >= self.max_frames:
                    duration = info.duration_s
                    # Truncated only if a further sample time lay inside the video.
                    self.truncated = (
                        next_t < duration - tolerance
                        if duration is not None
                        else any(p.size for p in demuxed)
                    )
                    return
        if self.frames_decoded == 0:
            raise CorruptMedia("The video contains no decodable frames.")
        if sampled == 0:
            raise CorruptMedia(f"None of the sampled frames could be decoded ({failed} failed).")

    def check(self) -> None:
        """Admission check, for a video that is stored now and analysed later: every packet's
        timestamp and count within the limits (demuxed, not decoded: a container that under-declares
        its length is caught without decoding it), one frame that decodes, and the later packets
        through the decoder with ``skip_frame=ALL`` (headers only: a frame size over the pixel limit
        is refused where the codec states sizes per frame, as MJPEG does; the worker's guard catches
        the rest). Raises what
        ``frames()`` would for those faults; costs a read of the file and one frame's decoding."""
        stream, context = self._stream, self._stream.codec_context
        context.thread_count = 1
        time_base = float(stream.time_base) if stream.time_base else 0.0
        start = stream.start_time
        packets, decoded = 0, False
        for packet in self._packets(stream):
            flushing = packet.size == 0
            if not flushing:
                packets += 1
                if packets > self.max_grabs:
                    raise VideoTooLong(f"The video has more than {self.max_grabs:,} frames.")
                if packet.pts is not None and time_base > 0:
                    start = packet.pts if start is None else start
                    if (packet.pts - start) * time_base > self.max_seconds + 1.0:
                        raise VideoTooLong(f"The video lasts longer than {self.max_seconds:.0f} s.")
            try:
                frames = self._decode(context, None if flushing else packet)
            except av.FFmpegError:
                continue  # a damaged packet; the decoder resynchronises on the next ones
            if frames and not decoded:
                guard_frame(frames[0], self.max_pixels)
                frames[0].to_ndarray(format="rgb24")
                decoded = True
                # The rest only through the decoder's headers (no picture is made): a later frame larger
                # than the header said is refused here when the codec reads sizes per frame (MJPEG).
                context.skip_frame = "ALL"
        if not decoded:
            raise CorruptMedia("The video contains no decodable frames.")

    def every_frame(self, max_frames: int | None = None) -> Iterator[tuple[int, float, np.ndarray]]:
        """Every frame in presentation order as ``(frame_index, timestamp_s, rgb)``, each one guarded,
        at most ``max_frames`` (``truncated`` says whether frames were left); for paths that need them
        all (generation) or one by its number (console). Limits as in ``frames()``."""
        stream, context = self._stream, self._stream.codec_context
        stream.thread_type = "AUTO"
        context.thread_count = self.threads
        time_base = float(stream.time_base) if stream.time_base else 0.0
        start = stream.start_time
        index = -1
        packets = 0
        demuxed = self._packets(stream)
        for packet in demuxed:
            flushing = packet.size == 0
            if not flushing:
                packets += 1
                if packets > self.max_grabs:
                    raise VideoTooLong(f"The video has more than {self.max_grabs:,} frames.")
                if start is None and packet.pts is not None:
                    start = packet.pts
            try:
                decoded = self._decode(context, None if flushing else packet)
            except av.FFmpegError:
                continue  # a damaged packet; the decoder resynchronises on the next ones
            for frame in decoded:
                if max_frames is not None and self.frames_decoded >= max_frames:
                    self.truncated = True
                    return
                self.frames_decoded += 1
                guard_frame(frame, self.max_pixels)
                index, t = self._position(frame, index, start, time_base)
                if t > self.max_seconds + 1.0:
                    raise VideoTooLong(f"The video lasts longer than {self.max_seconds:.0f} s.")
                yield index, t, frame.to_ndarray(format="rgb24")
        if self.frames_decoded == 0:
            raise CorruptMedia("The video contains no decodable frames.")

    def frame_at(self, number: int) -> np.ndarray:
        """RGB of frame ``number`` as ``frames()`` numbers them (the first frame at or after it)."""
        for index, _, rgb in self.every_frame():
            if index >= number:
                return rgb
        raise CorruptMedia(f"Frame {number} could not be decoded.")

    def _decode(self, context: Any, packet: Any) -> list[Any]:
        """``context.decode(packet)``; a picture the decoder refused for its size is ``image_too_large``."""
        try:
            return list(context.decode(packet))
        except av.FFmpegError as exc:
            if refused_for_size(exc, context, self.max_pixels):
                raise ImageTooLarge(
                    f"A video frame is larger than the pixel limit of {self.max_pixels:,}."
                ) from exc
            raise

    def _packets(self, stream: Any) -> Iterator[Any]:
        """The stream's packets, then PyAV's empty flush packet. A read error ends the stream (as a
        truncated file does): the frames decoded so far still count."""
        packets = self._container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.FFmpegError:
                yield av.Packet()  # flush what the decoder holds
                return
            yield packet

    def _position(self, frame: Any, previous: int, start: int | None, time_base: float) -> tuple[int, float]:
        """(frame number, seconds) of a decoded frame."""
        pts = frame.pts
        if self.info.fps_reliable:
            if pts is not None and time_base > 0:
                index = max(previous + 1, round((pts - (start or 0)) * time_base * self.info.fps))
            else:
                index = previous + 1
            return index, index / self.info.fps
        # Broken declared rate: every frame is decoded (no skipping), so counting gives the number.
        index = previous + 1
        if pts is not None and time_base > 0:
            seconds = (pts - (start or 0)) * time_base
            if math.isfinite(seconds) and (seconds > 0 or index == 0):
                return index, seconds
        return index, index / ASSUMED_FPS

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
