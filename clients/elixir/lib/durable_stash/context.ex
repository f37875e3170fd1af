defmodule DurableStash.Context do
  @moduledoc """
  What the adapter keeps in a socket between calls (in `socket.private.durable_stash`): the
  session key, the view, its options, the kind of this mount and the values last stored.

  It is built once per mount by `DurableStash.init_stash/3`, during the LiveView's mount,
  which is also the only moment the mount kind can be read from the connect params.
  """

  require Logger

  alias DurableStash.{Changes, LiveSocket, Options, SessionKey}

  @private_key :durable_stash

  defstruct [
    :session_key,
    :view,
    :vsn,
    :keys,
    :names,
    :mount,
    :migrate,
    :on_invalid_value,
    known: %{}
  ]

  @typedoc """
  * `session_key` — HMAC of the sid, or `nil` when the session has no sid (nothing is
    stored or recovered then);
  * `keys` — `{key, name, scope}` for every stored key; `names` maps a name back to its key;
  * `mount` — `:dead`, `:fresh` or `:rejoin`;
  * `known` — see `DurableStash.Changes`.
  """
  @type t :: %__MODULE__{
          session_key: String.t() | nil,
          view: String.t(),
          vsn: pos_integer(),
          keys: [{atom(), String.t(), :session | :reconnect}],
          names: %{String.t() => atom()},
          mount: LiveSocket.mount(),
          migrate: Options.migrate(),
          on_invalid_value: :raise | :log,
          known: Changes.t()
        }

  @doc """
  Builds the context of a mount from the LiveView session (the cookie session map) and the
  validated options, and stores it in the socket.
  """
  @spec init(LiveSocket.socket(), map() | keyword(), Options.adapter()) :: LiveSocket.socket()
  def init(socket, session, options) do
    view = LiveSocket.view_name(socket)
    keys = for {key, scope} <- options.stored_keys, do: {key, Atom.to_string(key), scope}

    context = %__MODULE__{
      session_key: session_key(session, options, view),
      view: view,
      vsn: options.vsn,
      keys: keys,
      names: Map.new(keys, fn {key, name, _scope} -> {name, key} end),
      mount: LiveSocket.mount_kind(socket),
      migrate: options.migrate,
      on_invalid_value: options.on_invalid_value,
      known: Changes.new()
    }

    put(socket, context)
  end

  @doc """
  The context of `socket`. Raises when `init/3` has not run, i.e. the LiveView does not
  `use LiveStash, adapter: DurableStash, ...`.
  """
  @spec fetch!(LiveSocket.socket()) :: t()
  def fetch!(socket) do
    case LiveSocket.get_private(socket, @private_key) do
      %__MODULE__{} = context ->
        context

      nil ->
        raise ArgumentError,
              "DurableStash is not set up for #{inspect(socket.view)}: add " <>
                "`use LiveStash, adapter: DurableStash, stored_keys: [...]` to the LiveView"
    end
  end

  @doc "Stores `context` in `socket`."
  @spec put(LiveSocket.socket(), t()) :: LiveSocket.socket()
  def put(socket, %__MODULE__{} = context),
    do: LiveSocket.put_private(socket, @private_key, context)

  defp session_key(session, options, view) do
    secret = options.secret || configured_secret()

    case session_id(session, options.session_id_key) do
      sid when is_binary(sid) and sid != "" ->
        SessionKey.derive(secret, sid)

      _missing ->
        Logger.error(
          "DurableStash: the session has no #{inspect(options.session_id_key)}, so the state " <>
            "of #{view} is neither recovered nor stashed. Add `plug DurableStash.Plug` to " <>
            "the :browser pipeline of your router, after :fetch_session."
        )

        nil
    end
  end

  defp session_id(session, key) when is_map(session), do: Map.get(session, key)

  defp session_id(session, key) when is_list(session) do
    case List.keyfind(session, key, 0) do
      {^key, sid} -> sid
      nil -> nil
    end
  end

  defp session_id(_session, _key), do: nil

  defp configured_secret do
    Options.secret!(
      Application.get_env(:durable_stash, :secret),
      "secret in config :durable_stash"
    ) ||
      raise ArgumentError,
            "DurableStash needs a secret to derive session keys from sids: set " <>
              ~s{config :durable_stash, secret: System.fetch_env!("DURABLE_STASH_SECRET") } <>
              "(at least 32 random bytes, e.g. from `mix phx.gen.secret`) in config/runtime.exs"
  end
end
