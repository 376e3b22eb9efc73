/**
 * JSON as Python's json module writes it: diffusers and transformers save configs with
 * `json.dumps`, which spells float infinities and NaN as the bare tokens `Infinity`, `-Infinity`
 * and `NaN` (DPMSolverMultistepScheduler's `"lambda_min_clipped": -Infinity`). JSON.parse refuses
 * those; here they become null, which the config readers take as "not set" (for
 * lambda_min_clipped, no clipping — what −∞ means).
 */
export function parsePythonJson(text: string): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const token = /^(-?Infinity|NaN)(?![A-Za-z0-9_])/.exec(text.slice(i, i + 10));
    if (token) {
      out += 'null';
      i += token[1]!.length - 1;
      continue;
    }
    out += c;
  }
  return JSON.parse(out) as unknown;
}
