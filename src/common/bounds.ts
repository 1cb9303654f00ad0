/** Why `value` exceeds the bounds, or undefined when it does not (bounded recursion: frames are at most MAX_FRAME_DEPTH deep). */
export function exceedsBounds(value: unknown, maxBytes: number, maxDepth: number): string | undefined {
  const depthOf = (v: unknown): number => {
    if (typeof v !== 'object' || v === null) return 0;
    let d = 0;
    for (const child of Object.values(v)) d = Math.max(d, depthOf(child));
    return d + 1;
  };
  const depth = depthOf(value);
  if (depth > maxDepth) return `nested ${depth} deep; at most ${maxDepth}`;
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > maxBytes) return `${bytes} bytes of JSON; at most ${maxBytes}`;
  return undefined;
}
