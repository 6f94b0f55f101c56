/**
 * Who follows what upstream. With one relay every lease is its own; on NATS the leases live in
 * a JetStream key-value bucket whose entries expire unless renewed, so a relay that dies loses
 * its jobs to the next one that asks.
 */
export interface Leases {
  /** true when this relay holds the lease now (already held counts) */
  acquire(name: string): Promise<boolean>;
  /** renews every held lease; resolves with the names that were lost */
  renewAll(): Promise<string[]>;
  release(name: string): Promise<void>;
  holds(name: string): boolean;
  /** how many this relay holds */
  readonly size: number;
  close(): Promise<void>;
}

export class LocalLeases implements Leases {
  private readonly held = new Set<string>();
  async acquire(name: string): Promise<boolean> {
    this.held.add(name);
    return true;
  }
  async renewAll(): Promise<string[]> {
    return [];
  }
  async release(name: string): Promise<void> {
    this.held.delete(name);
  }
  holds(name: string): boolean {
    return this.held.has(name);
  }
  get size(): number {
    return this.held.size;
  }
  async close(): Promise<void> {
    this.held.clear();
  }
}

export const listingLease = (sourceId: string, listingId: string) => `listing/${sourceId}/${listingId}`;
export const jobLease = (key: string) => `job/${key}`;
