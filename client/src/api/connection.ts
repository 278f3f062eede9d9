import { useSyncExternalStore } from "react";

export type ConnectionState = "connecting" | "live" | "offline";

/** The websocket's state, for the "live" badge (a tiny external store for React). */
export class ConnectionStore {
  private state: ConnectionState = "offline";
  private listeners = new Set<() => void>();

  set(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.listeners.forEach((listener) => listener());
  }

  get = (): ConnectionState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

export function useConnectionState(store: ConnectionStore): ConnectionState {
  return useSyncExternalStore(store.subscribe, store.get);
}
