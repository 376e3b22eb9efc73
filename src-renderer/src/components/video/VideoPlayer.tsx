/**
 * A player for generated clips, made for reviewing frames rather than watching films: play/pause,
 * a scrub bar in whole frames, looping, one-frame steps, the time and the frame number, and the
 * keys of common players (space, ← →, , .). Clips are silent, so it is muted and needs no volume.
 */
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import type { CSSProperties, KeyboardEvent } from 'react';
import { LoopIcon, PauseIcon, PlayIcon, StepBackIcon, StepForwardIcon } from '../icons.tsx';
import { formatClock, frameAt, keyCommand, seekTimeOf, totalFrames } from './frames.ts';
import type { PlayerCommand } from './frames.ts';
import './video-player.css';

export interface VideoPlayerProps {
  readonly src: string;
  readonly poster?: string | null;
  /** The clip's frame rate (WAN clips: 16). */
  readonly fps: number;
  /** The frame count recorded with the clip, when known (else duration × fps). */
  readonly frameCount?: number | null;
  readonly width?: number | null;
  readonly height?: number | null;
  /** What the clip is, for assistive technology (e.g. its prompt). */
  readonly label: string;
  readonly autoPlay?: boolean;
  readonly className?: string;
}

const MEDIA_ERRORS: Readonly<Record<number, string>> = {
  1: 'loading was stopped',
  2: 'a network error interrupted loading',
  3: 'the file could not be decoded',
  4: 'the file or its format is not supported here',
};

export function VideoPlayer({ src, poster, fps, frameCount, width, height, label, autoPlay = false, className }: VideoPlayerProps) {
  const video = useRef<HTMLVideoElement>(null);
  const [playing, setPlaying] = useState(false);
  const [time, setTime] = useState(0);
  const [duration, setDuration] = useState(Number.NaN);
  const [loop, setLoop] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const scrubId = useId();
  const frames = totalFrames(frameCount, duration, fps);
  const frame = frameAt(time, fps, frames);

  // Follow every presented frame while playing (requestVideoFrameCallback gives its exact media
  // time), else the events below.
  useEffect(() => {
    const v = video.current;
    if (!v || !playing || typeof v.requestVideoFrameCallback !== 'function') return;
    let handle = 0;
    const onFrame: VideoFrameRequestCallback = (_now, meta) => {
      setTime(meta.mediaTime);
      handle = v.requestVideoFrameCallback(onFrame);
    };
    handle = v.requestVideoFrameCallback(onFrame);
    return () => v.cancelVideoFrameCallback(handle);
  }, [playing]);

  const seekToFrame = useCallback(
    (target: number) => {
      const v = video.current;
      if (!v) return;
      const t = seekTimeOf(target, fps, frames);
      v.currentTime = t;
      setTime(t);
    },
    [fps, frames],
  );

  const run = useCallback(
    (command: PlayerCommand) => {
      const v = video.current;
      if (!v) return;
      switch (command.kind) {
        case 'toggle':
          if (v.paused || v.ended) {
            // At the end of a clip that does not loop, play starts again from the first frame.
            if (v.ended || frameAt(v.currentTime, fps, frames) >= frames - 1) v.currentTime = 0;
            v.play().catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
          } else {
            v.pause();
          }
          break;
        case 'step':
          v.pause();
          seekToFrame(frameAt(v.currentTime, fps, frames) + command.frames);
          break;
        case 'seek':
          seekToFrame(frameAt(v.currentTime, fps, frames) + Math.round(command.seconds * fps));
          break;
        case 'first':
          seekToFrame(0);
          break;
        case 'last':
          v.pause();
          seekToFrame(frames - 1);
          break;
        case 'loop':
          setLoop((l) => !l);
          break;
      }
    },
    [fps, frames, seekToFrame],
  );

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const target = e.target as HTMLElement;
    // Buttons handle their own space/enter; the scrub bar its own arrows (they step a frame too).
    if ((e.key === ' ' || e.key === 'Enter') && target.tagName === 'BUTTON') return;
    if (target.tagName === 'INPUT' && ['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key) && !e.shiftKey) return;
    const command = keyCommand(e.key, e.shiftKey);
    if (!command) return;
    e.preventDefault();
    e.stopPropagation();
    run(command);
  };

  const sync = () => {
    const v = video.current;
    if (!v) return;
    setTime(v.currentTime);
    setPlaying(!v.paused && !v.ended);
  };

  const aspect = width && height ? `${width} / ${height}` : undefined;
  const clock = playing ? time : frame / fps;
  const total = frames / fps;

  return (
    <div
      className={`video-player${className ? ` ${className}` : ''}`}
      role="group"
      aria-label={`Video player: ${label}`}
      tabIndex={0}
      onKeyDown={onKeyDown}
      data-playing={playing}
    >
      <div className="video-stage">
        <video
          style={aspect ? { aspectRatio: aspect } : undefined}
          ref={video}
          src={src}
          poster={poster ?? undefined}
          muted
          playsInline
          loop={loop}
          autoPlay={autoPlay}
          preload="auto"
          onClick={() => run({ kind: 'toggle' })}
          onLoadedMetadata={(e) => {
            setDuration(e.currentTarget.duration);
            setError(null);
            sync();
          }}
          onDurationChange={(e) => setDuration(e.currentTarget.duration)}
          onPlay={sync}
          onPause={sync}
          onEnded={sync}
          onSeeked={sync}
          onTimeUpdate={() => {
            // requestVideoFrameCallback keeps time exact while playing; this covers the rest.
            if (!playing || typeof video.current?.requestVideoFrameCallback !== 'function') sync();
          }}
          onError={(e) => {
            const code = e.currentTarget.error?.code ?? 0;
            setError(MEDIA_ERRORS[code] ?? 'it could not be loaded');
          }}
        />
        {error ? (
          <p className="video-error" role="alert">
            This video cannot be played: {error}.
          </p>
        ) : null}
      </div>
      <div className="video-controls">
        <button
          type="button"
          className="video-btn video-btn--play"
          onClick={() => run({ kind: 'toggle' })}
          aria-label={playing ? 'Pause' : 'Play'}
          title={playing ? 'Pause (space)' : 'Play (space)'}
        >
          {playing ? <PauseIcon /> : <PlayIcon />}
        </button>
        <button type="button" className="video-btn" onClick={() => run({ kind: 'step', frames: -1 })} aria-label="Previous frame" title="Previous frame (← or ,)">
          <StepBackIcon />
        </button>
        <button type="button" className="video-btn" onClick={() => run({ kind: 'step', frames: 1 })} aria-label="Next frame" title="Next frame (→ or .)">
          <StepForwardIcon />
        </button>
        <label className="visually-hidden" htmlFor={scrubId}>
          Position
        </label>
        <input
          id={scrubId}
          className="video-scrub"
          type="range"
          min={0}
          max={Math.max(0, frames - 1)}
          step={1}
          value={frame}
          aria-valuetext={`Frame ${frame + 1} of ${frames}, ${formatClock(frame / fps)}`}
          onChange={(e) => seekToFrame(Number(e.target.value))}
          style={{ '--progress': `${frames > 1 ? (frame / (frames - 1)) * 100 : 0}%` } as CSSProperties}
        />
        <span className="video-time" data-testid="video-time">
          {formatClock(clock)} / {formatClock(total)}
        </span>
        <span className="video-frame" data-testid="video-frame">
          Frame {frame + 1} / {frames}
        </span>
        <button
          type="button"
          className="video-btn video-btn--loop"
          aria-pressed={loop}
          onClick={() => run({ kind: 'loop' })}
          aria-label="Loop"
          title={loop ? 'Looping (L)' : 'Play once (L)'}
        >
          <LoopIcon />
        </button>
      </div>
    </div>
  );
}
