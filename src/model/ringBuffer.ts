/** A bounded buffer that keeps the newest items: event history per job stays bounded. */
export class RingBuffer<T> {
  // grows to capacity as items come (most jobs never fill it), then wraps
  private readonly items: T[] = [];
  private start = 0;
  /** how many items were pushed out to make room */
  dropped = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
    this.dropped++;
  }

  /** oldest first */
  toArray(): T[] {
    return this.start === 0 ? this.items.slice() : [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
  }

  /** the newest items in a buffer of another capacity */
  resized(capacity: number): RingBuffer<T> {
    if (capacity === this.capacity) return this;
    const next = new RingBuffer<T>(capacity);
    const items = this.toArray();
    for (const item of items.slice(Math.max(0, items.length - capacity))) next.items.push(item);
    next.dropped = this.dropped + Math.max(0, items.length - capacity);
    return next;
  }
}
