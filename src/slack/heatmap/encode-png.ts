// A minimal PNG encoder for palette images (colour type 3, 8 bits per pixel):
// enough for a heatmap of a few colours, with node's zlib doing the work.
import { crc32, deflateSync } from "node:zlib";

export type Rgb = readonly [number, number, number];

export interface PaletteImage {
  width: number;
  height: number;
  /** at most 256 colours; a pixel is an index into it */
  palette: readonly Rgb[];
  /** width × height palette indexes, row by row */
  pixels: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

export function encodePng(img: PaletteImage): Buffer {
  if (img.palette.length === 0 || img.palette.length > 256) throw new RangeError(`a PNG palette holds 1–256 colours, not ${img.palette.length}`);
  if (img.pixels.length !== img.width * img.height) throw new RangeError(`${img.pixels.length} pixels for a ${img.width}×${img.height} image`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(img.width, 0);
  ihdr.writeUInt32BE(img.height, 4);
  ihdr.set([8, 3, 0, 0, 0], 8); // bit depth 8, palette, deflate, adaptive filtering, no interlace
  // Every scanline starts with filter type 0 (none): flat colour areas deflate well as they are.
  const raw = Buffer.alloc((img.width + 1) * img.height);
  for (let y = 0; y < img.height; y++) raw.set(img.pixels.subarray(y * img.width, (y + 1) * img.width), y * (img.width + 1) + 1);
  return Buffer.concat([
    SIGNATURE,
    chunk("IHDR", ihdr),
    chunk("PLTE", Buffer.from(img.palette.flat())),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
