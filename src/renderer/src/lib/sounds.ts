/**
 * Short tones a person hears over dock noise: rising for a link, two low buzzes for an error,
 * one soft tone for "already done". Web Audio, so no files and nothing to load.
 */
export type Tone = 'ok' | 'parent' | 'calm' | 'error';

let ctx: AudioContext | null = null;

const TONES: Record<Tone, { freq: number; ms: number; type: OscillatorType; gap?: number; repeat?: number; to?: number }> = {
  ok: { freq: 880, to: 1320, ms: 110, type: 'sine' },
  parent: { freq: 660, to: 990, ms: 160, type: 'triangle', repeat: 2, gap: 60 },
  calm: { freq: 520, ms: 120, type: 'sine' },
  error: { freq: 180, ms: 220, type: 'square', repeat: 2, gap: 80 },
};

export function play(tone: Tone): void {
  try {
    ctx ??= new AudioContext();
    const t = TONES[tone];
    let at = ctx.currentTime;
    for (let i = 0; i < (t.repeat ?? 1); i++) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = t.type;
      osc.frequency.setValueAtTime(t.freq, at);
      if (t.to) osc.frequency.linearRampToValueAtTime(t.to, at + t.ms / 1000);
      gain.gain.setValueAtTime(0.25, at);
      gain.gain.exponentialRampToValueAtTime(0.001, at + t.ms / 1000);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + t.ms / 1000);
      at += (t.ms + (t.gap ?? 0)) / 1000;
    }
  } catch {
    // No audio device: the colour and text still tell the story.
  }
}
