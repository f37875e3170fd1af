defmodule DurableStash.Plug do
  @moduledoc """
  Gives every browser session a random session id, which DurableStash keys state by.

  Add it to the `:browser` pipeline of your router, after `:fetch_session`:

      pipeline :browser do
        plug :accepts, ["html"]
        plug :fetch_session
        plug DurableStash.Plug
        # ...
      end

  When the cookie session has no `"sid"`, it puts one there: 32 random bytes (256 bits) in
  unpadded base64url. An existing sid is left alone, so the state lives as long as the cookie
  session. Logging a user out with `configure_session(conn, drop: true)` or
  `clear_session/1` gives the browser a new sid, and so a clean slate.

  Option: `session_id_key:` (default `"sid"`) — use the same value as the adapter's
  `:session_id_key`.

  As a function plug, import `ensure_session_id/2` into the router and write
  `plug :ensure_session_id`.
  """

  # Plug comes with Phoenix in the host application; see DurableStash.LiveSocket for why the
  # undefined-module warning is silenced where Plug is absent at compile time.
  @compile {:no_warn_undefined, Plug.Conn}

  @sid_bytes 32

  @doc "Validates the options; returns the session key to use."
  @spec init(keyword()) :: String.t()
  def init(opts) do
    case Keyword.get(opts, :session_id_key, "sid") do
      key when is_binary(key) and key != "" ->
        key

      key when is_atom(key) and key not in [nil, true, false] ->
        Atom.to_string(key)

      other ->
        raise ArgumentError,
              ~s{:session_id_key must be a string such as "sid", got: #{inspect(other)}}
    end
  end

  @doc "Puts a new random sid into the session unless it already has one."
  @spec call(conn, String.t()) :: conn when conn: term()
  def call(conn, key) do
    case Plug.Conn.get_session(conn, key) do
      sid when is_binary(sid) and sid != "" -> conn
      _missing -> Plug.Conn.put_session(conn, key, new_sid())
    end
  end

  @doc "The same as a function plug: `plug :ensure_session_id` (options as for `init/1`)."
  @spec ensure_session_id(conn, keyword()) :: conn when conn: term()
  def ensure_session_id(conn, opts \\ []), do: call(conn, init(opts))

  @doc """
  A new session id: 256 random bits, URL-safe.

      iex> sid = DurableStash.Plug.new_sid()
      iex> byte_size(sid)
      43
      iex> sid =~ ~r/\\A[A-Za-z0-9_-]+\\z/
      true
  """
  @spec new_sid() :: String.t()
  def new_sid, do: @sid_bytes |> :crypto.strong_rand_bytes() |> Base.url_encode64(padding: false)
end
