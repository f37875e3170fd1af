defmodule DurableStash do
  @moduledoc """
  A [LiveStash](https://github.com/software-mansion-labs/live-stash) adapter that keeps
  LiveView state per **browser session** in `durable-stashd`, so that it survives live
  navigation, reconnects, LiveView crashes and redeploys, and dies with the session cookie.

  ## Use

      defmodule MyAppWeb.CounterLive do
        use MyAppWeb, :live_view
        use LiveStash, adapter: DurableStash, stored_keys: [:count, :username]

        def mount(_params, _session, socket) do
          socket = assign(socket, count: 0, username: nil)
          {_status, socket} = LiveStash.recover_state(socket)
          {:ok, socket}
        end

        def handle_event("increment", _params, socket) do
          socket = update(socket, :count, &(&1 + 1))
          {:noreply, LiveStash.stash(socket)}
        end
      end

  Assign defaults first, then recover: recovered keys overwrite them. Stash after every
  change you want kept; only changed keys are sent.

  ## Setup

      # config/config.exs
      config :live_stash, adapters: [DurableStash]

      # config/runtime.exs
      config :durable_stash,
        secret: System.fetch_env!("DURABLE_STASH_SECRET"),
        daemons: ["127.0.0.1:7379"]        # or :embedded

      # router.ex, in the :browser pipeline after :fetch_session
      plug DurableStash.Plug

  LiveStash starts the client (`child_spec/1`) because the adapter is listed in its config.
  The configuration keys are described in the README and checked by
  `DurableStash.Options.config!/1`.

  ## Scopes

      use LiveStash, adapter: DurableStash,
        stored_keys: [theme: :session, draft: :reconnect]

    * `:session` (the default for bare atoms) — recovered on every mount, the HTTP render
      included, so the first paint already shows it. For settings that should stick.
    * `:reconnect` — recovered only when the page *rejoins* its view (after a dropped
      socket, a LiveView crash or a redeploy). A fresh visit of the view clears it, so
      starting a new thing starts blank. For drafts in progress.

  ## Options

    * `:stored_keys` (required) — the assigns to keep, with their scopes.
    * `:vsn` (default `1`) — the shape version of the stored keys. Raise it when their
      meaning changes.
    * `:migrate` — `{MyModule, :function}` or `&MyModule.function/2`, called as
      `function.(old_vsn, data)` when the stored state has another vsn. `data` is a map of
      every stored key (as a string) to its value; return a map (atom or string keys) of the
      data for the current vsn. The result is assigned and written back under the current
      vsn. Without `:migrate`, state of another vsn is discarded and the view starts from
      its defaults. If the function raises, `recover_state/1` returns `:error` and keeps the
      stored state.
    * `:secret` — overrides `config :durable_stash, secret:` (at least 32 bytes). The
      session key is HMAC-SHA256(secret, sid); the daemon never sees the sid.
    * `:session_id_key` (default `"sid"`) — the cookie-session entry holding the session id.
    * `:on_invalid_value` — `:raise` (default) or `:log`; see "What can be stored".

  Options are compiled into the LiveView module, so they must be plain data: no anonymous
  functions. Unknown options raise, except `:auto_stash`, which LiveStash passes along.

  ## Statuses

  `recover_state/1` returns `{:recovered, socket}` when something was assigned,
  `{:not_found, socket}` when nothing stored is in scope for this mount, and
  `{:error, socket}` (socket unchanged, error logged) when the daemon is down, slow or
  failing, the stored data cannot be read, or the migration raised. It never returns `:new`
  and never crashes the LiveView because of the daemon.

  A session without a sid (the plug is missing) logs one error per mount naming the plug to
  add; `recover_state/1` then returns `:not_found` and `stash/1` does nothing, so the page
  works, without memory.

  ## What can be stored

  Values are normalized to JSON by the daemon, exactly as Elixir's
  `value |> JSON.encode!() |> JSON.decode!()` would: what you recover in development is what
  you recover after a redeploy in production.

    * maps come back with string keys; atoms (other than `nil`, `true`, `false`) come back as
      strings; `Date`, `Time`, `NaiveDateTime`, `DateTime` and `Duration` come back as
      ISO 8601 strings; lists, binaries (UTF-8), integers, floats, booleans, `nil` as they are;
    * tuples, pids, references, functions, non-UTF-8 binaries, other structs, and maps whose
      keys collide once turned into strings are refused. The daemon names the key and the
      offending type: under `on_invalid_value: :raise` `stash/1` raises an `ArgumentError`;
      under `:log` it logs and skips that key.

  Limits (configurable on the daemon): 64 KiB per value, 1 MiB per session, 256 keys per view.
  """

  alias DurableStash.{Client, Context, Options, Recovery, Stashing}

  # LiveStash is a dependency of the host application; the behaviour is declared where it is
  # compiled (always, in an app), and the callbacks below match it either way.
  if Code.ensure_loaded?(LiveStash.Adapter), do: @behaviour(LiveStash.Adapter)

  @doc """
  Sets up the stash for this mount: validates the options, derives the session key from the
  session's sid and notes the kind of mount. Called by LiveStash's `on_mount` hook.
  """
  @spec init_stash(socket, map() | keyword(), keyword()) :: socket when socket: map()
  def init_stash(socket, session, opts) do
    Context.init(socket, session, Options.adapter!(opts))
  end

  @doc """
  Stores the stored keys whose assigns changed since the last stash or recover.
  """
  @spec stash(socket) :: socket when socket: map()
  def stash(socket), do: Stashing.stash(socket)

  @doc """
  Assigns the stored keys in scope for this mount; see "Statuses" above.
  """
  @spec recover_state(socket) :: {:recovered | :not_found | :error, socket} when socket: map()
  def recover_state(socket), do: Recovery.recover(socket)

  @doc """
  Removes this view's stored state for the session (the assigns are left as they are).
  """
  @spec reset_stash(socket) :: socket when socket: map()
  def reset_stash(socket), do: Stashing.reset(socket)

  @doc """
  The client's child spec: connections to the daemons of `config :durable_stash`, or the
  embedded daemon. LiveStash calls it with `[]`; options given here override the config.
  """
  @spec child_spec(keyword()) :: Supervisor.child_spec()
  def child_spec(opts), do: Client.child_spec(opts)
end
