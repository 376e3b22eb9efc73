/**
 * Long prompts for CLIP text encoders: AUTOMATIC1111's scheme (`tokenize_line` in
 * `modules/sd_hijack_clip.py`, read as the reference, not copied).
 *
 * Each weighted fragment is tokenized on its own and the tokens are packed into chunks of
 * `modelMaxLength - 2` (75) tokens. When a chunk is full and a comma was seen at most
 * `commaBacktrack` (20) tokens back, the tokens after that comma move to the next chunk, so a phrase
 * is not cut in half. BREAK closes the current chunk, even an empty one. Each chunk becomes
 * `modelMaxLength` (77) ids: [start, 75 tokens, end, padding…] with the tokenizer's own pad id
 * (SDXL: `<|endoftext|>` for tokenizer, `!` = 0 for tokenizer_2), and a weight per position:
 * the fragment's weight for prompt tokens, 1 for start, end and padding.
 *
 * For the pipeline author — how A1111 uses these (its default "Original" emphasis,
 * `modules/sd_emphasis.py`), per chunk and per text encoder, before the two SDXL encoders' hidden
 * states are concatenated:
 *   1. run the encoder on the chunk's 77 ids → hidden states z [77, C] (SDXL: the penultimate layer);
 *   2. m0 = mean of all of z;  z[t, :] *= weights[t] for every position t;  m1 = mean of all of z;
 *   3. z *= m0 / m1  (restores the original mean);
 *   4. concatenate the chunks' z along the token axis → [77 · chunkCount, C].
 * The pooled output SDXL also needs comes from text_encoder_2 on the FIRST chunk, unweighted.
 * Prompt and negative prompt must have the same number of chunks to be batched for CFG: use
 * `equalizeChunkCounts`, which pads the shorter with empty-prompt chunks as A1111 does.
 */
import type { PromptFragment } from './weighting.ts';
import { parsePromptAttention } from './weighting.ts';

/** What chunking needs from a tokenizer; `ClipTokenizer` has all of it. */
export interface ChunkTokenizer {
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly modelMaxLength: number;
  encode(text: string): number[];
  tokenToId(token: string): number | undefined;
}

export interface PromptChunk {
  /** `modelMaxLength` ids: start, prompt tokens, end, padding. */
  ids: Int32Array;
  /** One weight per id; 1 for start, end and padding. */
  weights: Float32Array;
}

export interface ChunkedPrompt {
  chunks: PromptChunk[];
  /** A1111's count: 75 for every chunk but the last, plus the tokens in the last one. */
  tokenCount: number;
}

export interface ChunkOptions {
  /** How far back (in tokens) a full chunk may move back to its last comma; 0 turns it off. A1111 default 20. */
  commaBacktrack?: number;
}

const DEFAULT_COMMA_BACKTRACK = 20;

function chunkLength(tokenizer: ChunkTokenizer): number {
  return tokenizer.modelMaxLength - 2;
}

function buildChunk(tokenizer: ChunkTokenizer, tokens: readonly number[], weights: readonly number[]): PromptChunk {
  const length = tokenizer.modelMaxLength;
  const ids = new Int32Array(length).fill(tokenizer.padId);
  const w = new Float32Array(length).fill(1);
  ids[0] = tokenizer.bosId;
  for (let i = 0; i < tokens.length; i++) {
    ids[i + 1] = tokens[i]!;
    w[i + 1] = weights[i]!;
  }
  ids[tokens.length + 1] = tokenizer.eosId;
  return { ids, weights: w };
}

/** The chunk of an empty prompt: start, end, then padding; all weights 1. */
export function emptyChunk(tokenizer: ChunkTokenizer): PromptChunk {
  return buildChunk(tokenizer, [], []);
}

/**
 * Splits a prompt (A1111 attention syntax, or fragments already parsed) into encoder-sized chunks.
 * Call it once per tokenizer: the token ids are the same for SDXL's two, the pad id is not.
 */
export function chunkPrompt(
  prompt: string | readonly PromptFragment[],
  tokenizer: ChunkTokenizer,
  options: ChunkOptions = {},
): ChunkedPrompt {
  const fragments = typeof prompt === 'string' ? parsePromptAttention(prompt) : prompt;
  const limit = chunkLength(tokenizer);
  if (limit < 1) throw new Error(`Tokenizer model_max_length ${tokenizer.modelMaxLength} leaves no room for prompt tokens.`);
  const backtrack = options.commaBacktrack ?? DEFAULT_COMMA_BACKTRACK;
  const commaId = tokenizer.tokenToId(',</w>');

  const chunks: PromptChunk[] = [];
  let tokens: number[] = [];
  let weights: number[] = [];
  let tokenCount = 0;
  let lastComma = -1;

  const closeChunk = (isLast: boolean): void => {
    tokenCount += isLast ? tokens.length : limit;
    chunks.push(buildChunk(tokenizer, tokens, weights));
    tokens = [];
    weights = [];
    lastComma = -1;
  };

  for (const fragment of fragments) {
    if (fragment.kind === 'break') {
      closeChunk(false);
      continue;
    }
    for (const token of tokenizer.encode(fragment.text)) {
      if (token === commaId) {
        lastComma = tokens.length;
      } else if (backtrack !== 0 && tokens.length === limit && lastComma !== -1 && tokens.length - lastComma <= backtrack) {
        const cut = lastComma + 1;
        const movedTokens = tokens.slice(cut);
        const movedWeights = weights.slice(cut);
        tokens.length = cut;
        weights.length = cut;
        closeChunk(false);
        tokens = movedTokens;
        weights = movedWeights;
      }
      if (tokens.length === limit) closeChunk(false);
      tokens.push(token);
      weights.push(fragment.weight);
    }
  }
  if (tokens.length > 0 || chunks.length === 0) closeChunk(true);

  return { chunks, tokenCount };
}

/**
 * Pads the prompt or the negative prompt with empty chunks until both have as many chunks, so they
 * can be encoded and batched together for classifier-free guidance. Inputs are not modified.
 */
export function equalizeChunkCounts(
  prompt: ChunkedPrompt,
  negative: ChunkedPrompt,
  tokenizer: ChunkTokenizer,
): [ChunkedPrompt, ChunkedPrompt] {
  const count = Math.max(prompt.chunks.length, negative.chunks.length);
  const pad = (p: ChunkedPrompt): ChunkedPrompt => {
    const chunks = [...p.chunks];
    while (chunks.length < count) chunks.push(emptyChunk(tokenizer));
    return { chunks, tokenCount: p.tokenCount };
  };
  return [pad(prompt), pad(negative)];
}
