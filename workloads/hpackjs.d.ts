/** The part of hpack.js (indutny/hpack.js, RFC 7541) the HTTP/2 client uses; the package ships no types. */
declare module 'hpack.js' {
  interface Decompressor {
    write(chunk: Buffer): boolean;
    execute(): void;
    read(): unknown;
    on(event: 'error', listener: (err: unknown) => void): this;
  }
  const hpack: { decompressor: { create(options: { table: { size: number } }): Decompressor } };
  export default hpack;
}
