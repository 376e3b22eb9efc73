// PNG for the studio: one import for encoding generated images with their recipe, reading metadata
// back (ours and other tools'), and decoding pixels. See png-generated.ts for the chunk layout.

export {
  PNG_SIGNATURE,
  PngFormatError,
  decodeTextChunk,
  encodeChunk,
  encodeTextChunk,
  findText,
  isLatin1,
  parseIhdr,
  readPngChunks,
  readPngMetadata,
} from './png-chunks.ts';
export type {
  DecodeTextOptions,
  PngChunk,
  PngErrorCode,
  PngHeader,
  PngMetadata,
  PngTextEntry,
  TextChunkSpec,
} from './png-chunks.ts';
export { encodePng } from './png-encode.ts';
export type { EncodePngOptions, PngFilterChoice, RawImage } from './png-encode.ts';
export { DEFAULT_MAX_PIXELS, decodePng } from './png-decode.ts';
export type { DecodePngOptions, DecodedPng } from './png-decode.ts';
export {
  DEFAULT_SOFTWARE,
  DIGITAL_SOURCE_TYPE_TRAINED_ALGORITHMIC,
  PARAMETERS_KEYWORD,
  RECIPE_KEYWORD,
  SOFTWARE_KEYWORD,
  XMP_KEYWORD,
  buildXmpPacket,
  encodeGeneratedPng,
  readImageRecipeMetadata,
  readXmpDigitalSourceType,
} from './png-generated.ts';
export type { GeneratedPngInput, ImageRecipeMetadata, JsonText, ReadRecipeOptions } from './png-generated.ts';
