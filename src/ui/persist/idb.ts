/**
 * A key-value store in IndexedDB (one database, one object store), promise-based. Values are structured
 * clones: plain objects, arrays and typed arrays (model and image bytes) alike.
 */
const DB_NAME = 'adfq-studio';
const STORE = 'session';

let opening: Promise<IDBDatabase> | null = null;

function open(): Promise<IDBDatabase> {
  opening ??= new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened.'));
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab of the studio; close it.'));
  }).catch((e) => { opening = null; throw e; });
  return opening;
}

function done<T>(req: IDBRequest<T>, tx: IDBTransaction): Promise<T> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error ?? req.error);
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted (storage full?).'));
  });
}

export async function idbGet<T>(key: string): Promise<T | undefined> {
  const tx = (await open()).transaction(STORE, 'readonly');
  return done(tx.objectStore(STORE).get(key) as IDBRequest<T | undefined>, tx);
}

export async function idbPut(key: string, value: unknown): Promise<void> {
  const tx = (await open()).transaction(STORE, 'readwrite');
  await done(tx.objectStore(STORE).put(value, key), tx);
}

export async function idbDelete(key: string): Promise<void> {
  const tx = (await open()).transaction(STORE, 'readwrite');
  await done(tx.objectStore(STORE).delete(key), tx);
}

export async function idbClear(): Promise<void> {
  const tx = (await open()).transaction(STORE, 'readwrite');
  await done(tx.objectStore(STORE).clear(), tx);
}
