/** `items` in batches of at most `size`, for the APIs that take a bounded list of names or ids a call. */
export const chunks = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));
