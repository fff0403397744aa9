// The progress line of a long `luapf run` on a terminal: bytes read of the
// total, percentage, packet rate and time left, redrawn a few times per
// second on stderr and cleared at the end. Off when stderr is not a
// terminal, so logs and pipes never see it; LUAPF_PROGRESS=1 forces it on
// (tests), LUAPF_PROGRESS=0 off.
import { compact } from './run-output.js';

/** What one redraw shows. */
export interface ProgressState {
  capture: string;
  /** 1-based index of the capture being read, and how many there are */
  index: number;
  count: number;
  /** bytes read over all captures so far, and their total when every size is known */
  bytes: number;
  totalBytes?: number;
  packets: number;
  seconds: number;
}

/** 1234567 → "1.2 MB" (decimal units, as disk sizes are shown). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let i = -1;
  while (n >= 999.95 && i < units.length - 1) { n /= 1000; i++; }
  return `${n.toFixed(1)} ${units[i]}`;
}

/** 75 → "1:15", 3725 → "1:02:05". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The progress line, e.g. "[2/3] sll.pcap  12.3 MB of 45.6 MB  27%  1.23M packets/s  0:03 left". */
export function formatProgress(s: ProgressState): string {
  const parts = [`${s.count > 1 ? `[${s.index}/${s.count}] ` : ''}${s.capture}`];
  const known = s.totalBytes !== undefined && s.totalBytes > 0;
  parts.push(known ? `${formatBytes(s.bytes)} of ${formatBytes(s.totalBytes!)}` : formatBytes(s.bytes));
  if (known) parts.push(`${Math.min(100, Math.floor((s.bytes / s.totalBytes!) * 100))}%`);
  if (s.seconds > 0) parts.push(`${compact(s.packets / s.seconds)} packets/s`);
  if (known && s.seconds > 0 && s.bytes > 0) {
    parts.push(`${formatDuration(((s.totalBytes! - s.bytes) * s.seconds) / s.bytes)} left`);
  }
  return parts.join('  ');
}

/** True when a progress line should be drawn on `stream`. */
export function progressWanted(stream: NodeJS.WriteStream, quiet: boolean): boolean {
  const forced = process.env.LUAPF_PROGRESS;
  if (quiet || forced === '0') return false;
  return forced === '1' || stream.isTTY === true;
}

/** Draws the line at most every `interval` ms; the first update draws at once. */
export class Progress {
  private readonly start = performance.now();
  private last = -Infinity;
  private drawn = false;
  private index = 0;
  private doneBytes = 0;
  private donePackets = 0;

  constructor(
    private readonly sizes: readonly (number | undefined)[],
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly interval = 250,
  ) {}

  /** The capture of size sizes[index] is done: its bytes and packets count as read. */
  captureDone(packets: number): void {
    this.doneBytes += this.sizes[this.index] ?? 0;
    this.donePackets += packets;
    this.index++;
  }

  update(capture: string, packets: number, bytes: number): void {
    const now = performance.now();
    if (now - this.last < this.interval) return;
    this.last = now;
    const total = this.sizes.every((s) => s !== undefined) ? this.sizes.reduce<number>((a, s) => a + s!, 0) : undefined;
    let line = formatProgress({
      capture, index: this.index + 1, count: this.sizes.length, bytes: this.doneBytes + bytes, totalBytes: total,
      packets: this.donePackets + packets, seconds: (now - this.start) / 1000,
    });
    const width = this.stream.columns;
    if (width && line.length >= width) line = line.slice(0, width - 1);
    this.stream.write(`\r\x1b[K${line}`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
