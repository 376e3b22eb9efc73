// Trimming without `[…]+$` regexes. Such a regex is tried from every position of every run of the
// characters inside the text, each try scanning to the run's end, so a text with a long inner run
// (80,000 NULs or commas before a last letter) took 18–20 s; these loops are linear.

/** `text` without the characters `drop` accepts at its end. */
export function trimEndWhere(text: string, drop: (char: string) => boolean): string {
  let end = text.length;
  while (end > 0 && drop(text[end - 1]!)) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** `text` without the characters `drop` accepts at either end. */
export function trimWhere(text: string, drop: (char: string) => boolean): string {
  let start = 0;
  while (start < text.length && drop(text[start]!)) start++;
  return trimEndWhere(text.slice(start), drop);
}

/** Trailing NULs, as C strings in EXIF pad them. */
export function withoutTrailingNuls(text: string): string {
  return trimEndWhere(text, (c) => c === '\0');
}
