// Where the ranks of a run meet: c10d's TCPStore (rank 0 listens on MASTER_ADDR:MASTER_PORT, as torchrun does)
// or FileStore (a file all ranks can open: one machine, or a shared file system). The store is also a small
// key-value table every rank sees (start-up checks such as a config hash).
import { native } from '../native/binding.js';
import { DistributedError, nativeMessage } from './errors.js';

export type RendezvousOptions = { kind: 'tcp'; host: string; port: number } | { kind: 'file'; path: string };

/** Opaque handle to a c10d::Store owned by the addon. */
export type NativeStore = object;

export class Store {
  private constructor(
    readonly handle: NativeStore,
    readonly description: string,
    readonly timeoutMs: number,
  ) {}

  /** Opens the rendezvous; for TCP, rank 0 is the server. Port in use and unreachable hosts are errors. */
  static open(r: RendezvousOptions, rank: number, worldSize: number, timeoutMs: number): Store {
    if (r.kind === 'tcp') {
      const where = `tcp://${r.host}:${r.port}`;
      if (!Number.isInteger(r.port) || r.port < 0 || r.port > 65535) {
        throw new DistributedError(`rendezvous ${where}: port must be an integer in 0..65535`, 'rendezvous', rank);
      }
      try {
        const h = native.distTcpStore(r.host, r.port, worldSize, rank === 0, timeoutMs) as NativeStore;
        return new Store(h, where, timeoutMs);
      } catch (err) {
        const role = rank === 0 ? `listening on ${where} (is the port already in use?)` : `connecting to ${where} (is MASTER_ADDR right and rank 0 started?)`;
        throw new DistributedError(`rendezvous failed on rank ${rank}, ${role}: ${nativeMessage(err)} (timeout ${timeoutMs} ms)`, 'rendezvous', rank, {
          cause: err,
        });
      }
    }
    try {
      return new Store(native.distFileStore(r.path, worldSize, timeoutMs) as NativeStore, `file://${r.path}`, timeoutMs);
    } catch (err) {
      throw new DistributedError(`rendezvous file ${r.path} on rank ${rank}: ${nativeMessage(err)}`, 'rendezvous', rank, { cause: err });
    }
  }

  /** The port a TCP server store listens on (useful after asking for port 0). */
  get port(): number {
    return native.distTcpStorePort(this.handle) as number;
  }

  set(key: string, value: string): void {
    this.call('set', () => native.distStoreSet(this.handle, key, value));
  }

  /** Waits up to the store's timeout for `key` to be set by some rank. */
  get(key: string): string {
    return this.call(`get '${key}'`, () => native.distStoreGet(this.handle, key) as string);
  }

  /** Atomically adds `amount` to the counter `key` and returns the new value. */
  add(key: string, amount: number): number {
    return this.call('add', () => native.distStoreAdd(this.handle, key, amount) as number);
  }

  private call<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw new DistributedError(`store ${this.description}: ${what} failed: ${nativeMessage(err)} (timeout ${this.timeoutMs} ms)`, 'store', undefined, {
        cause: err,
      });
    }
  }
}
