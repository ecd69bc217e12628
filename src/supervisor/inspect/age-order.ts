/** What an item of an AgeOrder carries: its neighbours, while it is in the order. */
export interface AgeLinks<T> {
  older: T | undefined
  newer: T | undefined
  inOrder: boolean
}

/**
 * Items in the order they were added, linked through the items themselves: adding and taking out
 * allocate nothing, where a Set's table is replaced as it fills, and a busy proxy's tables would be
 * promoted to the old generation and collected there.
 */
export class AgeOrder<T extends AgeLinks<T>> {
  private first: T | undefined
  private last: T | undefined

  /** The item added longest ago. */
  get oldest(): T | undefined {
    return this.first
  }

  /** Adds `item` as the newest, unless it is in the order already. */
  add(item: T): void {
    if (item.inOrder) return
    item.inOrder = true
    item.older = this.last
    item.newer = undefined
    if (this.last) this.last.newer = item
    else this.first = item
    this.last = item
  }

  /** Takes `item` out; whether it was in. */
  delete(item: T): boolean {
    if (!item.inOrder) return false
    if (item.older) item.older.newer = item.newer
    else this.first = item.newer
    if (item.newer) item.newer.older = item.older
    else this.last = item.older
    item.inOrder = false
    item.older = undefined
    item.newer = undefined
    return true
  }
}
