// A process-wide cache of blob bytes already read and verified (see VerifiedBlobs).

/**
 * Blob bytes this process has read and verified, by sha256: a blob never changes, so a foreach's
 * list read by every one of its tasks in a warm worker (or on S3, one GET each) is read once.
 * Bounded: blobs up to 4 MiB, 64 MiB in all, least recently used out first.
 */
export class VerifiedBlobs {
  private map = new Map<string, Buffer>();
  private bytes = 0;
  get(sha: string): Buffer | undefined {
    const b = this.map.get(sha);
    if (b) {
      this.map.delete(sha);
      this.map.set(sha, b);
    }
    return b;
  }
  set(sha: string, b: Buffer): void {
    if (b.length > 4 * 2 ** 20 || this.map.has(sha)) return;
    this.map.set(sha, b);
    this.bytes += b.length;
    for (const [k, v] of this.map) {
      if (this.bytes <= 64 * 2 ** 20) break;
      this.map.delete(k);
      this.bytes -= v.length;
    }
  }
}
export const verifiedBlobs = new VerifiedBlobs();
