/**
 * One source's recorded requests, oldest first, in a fixed array used round: pushing and shifting
 * neither copies nor reallocates it, so that a busy source's ring makes no garbage.
 */
export class EntryRing<T extends {sequence: number}> {
  private slots: (T | undefined)[] = []
  private first = 0
  private count = 0

  get length(): number {
    return this.count
  }

  /** The oldest, if any. */
  get oldest(): T | undefined {
    return this.count === 0 ? undefined : this.slots[this.first]
  }

  /** Adds `item` as the newest: the ring grows to `capacity` first if it must. */
  push(item: T, capacity: number): void {
    if (this.count === this.slots.length) this.resize(Math.max(capacity, this.count + 1))
    this.slots[(this.first + this.count) % this.slots.length] = item
    this.count++
  }

  /** Takes the oldest out. */
  shift(): T | undefined {
    if (this.count === 0) return undefined
    const item = this.slots[this.first]
    this.slots[this.first] = undefined
    this.first = (this.first + 1) % this.slots.length
    this.count--
    return item
  }

  /** The item pushed with `sequence`, found by halves: sequences only grow. */
  find(sequence: number): T | undefined {
    let low = 0
    let high = this.count - 1
    while (low <= high) {
      const middle = (low + high) >> 1
      const item = this.at(middle)
      if (item.sequence === sequence) return item
      if (item.sequence < sequence) low = middle + 1
      else high = middle - 1
    }

    return undefined
  }

  /** Oldest first. */
  toArray(): T[] {
    return Array.from({length: this.count}, (_, index) => this.at(index))
  }

  private at(index: number): T {
    return this.slots[(this.first + index) % this.slots.length]!
  }

  private resize(capacity: number): void {
    this.slots = [...this.toArray(), ...Array.from({length: capacity - this.count}, () => undefined)]
    this.first = 0
  }
}
