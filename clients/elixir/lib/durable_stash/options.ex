defmodule DurableStash.Options do
  @moduledoc """
  Validation of everything a user can write: the options of
  `use LiveStash, adapter: DurableStash, ...` (`adapter!/1`) and `config :durable_stash`
  (`config!/1`).

  All checks live here so that every mistake gets a message that says what to write instead.
  Invalid input raises `ArgumentError`.
  """

  @adapter_keys [:stored_keys, :vsn, :migrate, :secret, :session_id_key, :on_invalid_value]
  # Options that LiveStash itself consumes but still passes on to the adapter.
  @passed_through [:auto_stash]
  @config_keys [:daemons, :daemon, :auth_token, :pool_size, :timeout, :secret] ++
                 [:daemon_path, :data_dir]
  @scopes [:session, :reconnect]
  @max_vsn 9_223_372_036_854_775_807

  @default_daemons ["127.0.0.1:7379"]

  @typedoc "A migration: `(old_vsn, data) -> data`, as `{Module, :function}` or `&Module.function/2`."
  @type migrate :: nil | {module(), atom()} | (pos_integer(), map() -> map())

  @typedoc "The validated adapter options."
  @type adapter :: %{
          stored_keys: [{atom(), :session | :reconnect}],
          vsn: pos_integer(),
          migrate: migrate(),
          secret: nil | binary(),
          session_id_key: String.t(),
          on_invalid_value: :raise | :log
        }

  @typedoc "A daemon to connect to: its address as configured, host and port."
  @type daemon :: {address :: String.t(), host :: charlist(), :inet.port_number()}

  @typedoc "The validated client configuration."
  @type config :: %{
          daemons: [daemon()] | :embedded,
          auth_token: nil | String.t(),
          pool_size: pos_integer(),
          timeout: pos_integer(),
          secret: nil | binary(),
          daemon_path: nil | String.t(),
          data_dir: String.t() | :memory
        }

  @doc """
  Validates the options given to `use LiveStash, adapter: DurableStash, ...` (without
  `:adapter`, which LiveStash removes) and returns them with defaults filled in.
  """
  @spec adapter!(keyword()) :: adapter()
  def adapter!(opts) do
    opts = keyword!(opts, "the options of `use LiveStash, adapter: DurableStash, ...`")
    unknown!(opts, @adapter_keys ++ @passed_through, "DurableStash has no option", "options")

    %{
      stored_keys: stored_keys!(Keyword.fetch(opts, :stored_keys)),
      vsn: vsn!(Keyword.get(opts, :vsn, 1)),
      migrate: migrate!(Keyword.get(opts, :migrate)),
      secret: secret!(Keyword.get(opts, :secret), ":secret option"),
      session_id_key: session_id_key!(Keyword.get(opts, :session_id_key, "sid")),
      on_invalid_value: on_invalid_value!(Keyword.get(opts, :on_invalid_value, :raise))
    }
  end

  @doc """
  Validates the client configuration (`config :durable_stash, ...`, merged with any options
  given to the child spec) and returns it with defaults filled in.
  """
  @spec config!(keyword()) :: config()
  def config!(config) do
    config = keyword!(config, "config :durable_stash")
    unknown!(config, @config_keys, "config :durable_stash has no key", "keys")

    %{
      daemons: daemons!(config),
      auth_token: auth_token!(Keyword.get(config, :auth_token)),
      pool_size: positive!(Keyword.get(config, :pool_size, 2), :pool_size, "pool_size: 2"),
      timeout: positive!(Keyword.get(config, :timeout, 2_000), :timeout, "timeout: 2_000"),
      secret: secret!(Keyword.get(config, :secret), "secret in config :durable_stash"),
      daemon_path: daemon_path!(Keyword.get(config, :daemon_path)),
      data_dir: data_dir!(Keyword.get(config, :data_dir, "tmp/durable_stash"))
    }
  end

  @doc """
  Checks a secret: a binary of at least 32 bytes. Used for the configured secret and for a
  `:secret` option alike; `where` names it in the message. The secret itself is never shown.
  """
  @spec secret!(term(), String.t()) :: nil | binary()
  def secret!(nil, _where), do: nil
  def secret!(secret, _where) when is_binary(secret) and byte_size(secret) >= 32, do: secret

  def secret!(secret, where) when is_binary(secret) do
    raise ArgumentError,
          "the #{where} is #{byte_size(secret)} bytes long; use at least 32 random bytes, " <>
            "e.g. the output of `mix phx.gen.secret`"
  end

  def secret!(_secret, where) do
    raise ArgumentError,
          "the #{where} must be a binary of at least 32 bytes, " <>
            ~s{e.g. secret: System.fetch_env!("DURABLE_STASH_SECRET")}
  end

  # --- adapter options -------------------------------------------------------------------

  defp stored_keys!(:error) do
    raise ArgumentError,
          "DurableStash needs :stored_keys, the assigns to keep, e.g. " <>
            "`stored_keys: [:count, :username]` or `stored_keys: [theme: :session, draft: :reconnect]`"
  end

  defp stored_keys!({:ok, keys}) when is_list(keys) do
    keys = Enum.map(keys, &stored_key!/1)

    keys
    |> Enum.map(&elem(&1, 0))
    |> Enum.frequencies()
    |> Enum.each(fn
      {key, count} when count > 1 ->
        raise ArgumentError, "the key #{inspect(key)} appears #{count} times in :stored_keys"

      _once ->
        :ok
    end)

    keys
  end

  defp stored_keys!({:ok, other}) do
    raise ArgumentError,
          ":stored_keys must be a list such as [:count, draft: :reconnect], got: #{inspect(other)}"
  end

  defp stored_key!(key) when is_atom(key) and key not in [nil, true, false], do: {key, :session}

  defp stored_key!({key, scope}) when is_atom(key) and scope in @scopes, do: {key, scope}

  defp stored_key!({key, scope}) when is_atom(key) do
    raise ArgumentError,
          "the scope of #{inspect(key)} in :stored_keys must be :session (recovered on every " <>
            "mount) or :reconnect (recovered only when the page rejoins), got: #{inspect(scope)}"
  end

  defp stored_key!(other) do
    raise ArgumentError,
          "each entry of :stored_keys must be an assign name (an atom, scope :session) or " <>
            "`name: :session` / `name: :reconnect`, got: #{inspect(other)}"
  end

  defp vsn!(vsn) when is_integer(vsn) and vsn >= 1 and vsn <= @max_vsn, do: vsn

  defp vsn!(other) do
    raise ArgumentError,
          ":vsn must be a positive integer (1, 2, ...) that you raise when the shape of the " <>
            "stored keys changes, got: #{inspect(other)}"
  end

  defp migrate!(nil), do: nil
  defp migrate!({module, function} = mf) when is_atom(module) and is_atom(function), do: mf

  defp migrate!(fun) when is_function(fun, 2) do
    case Function.info(fun, :type) do
      {:type, :external} -> fun
      {:type, :local} -> raise ArgumentError, anonymous_migrate()
    end
  end

  defp migrate!(other) do
    raise ArgumentError,
          ":migrate must be {MyModule, :function} or &MyModule.function/2, a function of " <>
            "(old_vsn, data) that returns the data for the current :vsn, got: #{inspect(other)}"
  end

  defp anonymous_migrate do
    ":migrate cannot be an anonymous function: LiveStash compiles its options into the " <>
      "LiveView module, so they must be plain data. Define the function in a module and pass " <>
      "{MyModule, :migrate} or &MyModule.migrate/2"
  end

  defp session_id_key!(key) when is_binary(key) and key != "", do: key

  defp session_id_key!(key) when is_atom(key) and key not in [nil, true, false],
    do: to_string(key)

  defp session_id_key!(other) do
    raise ArgumentError,
          ~s{:session_id_key must be the name of the cookie-session entry holding the session } <>
            ~s{id, e.g. "sid" (the default), got: #{inspect(other)}}
  end

  defp on_invalid_value!(mode) when mode in [:raise, :log], do: mode

  defp on_invalid_value!(other) do
    raise ArgumentError,
          ":on_invalid_value must be :raise (a value that cannot be stored raises) or :log " <>
            "(it is logged and skipped), got: #{inspect(other)}"
  end

  # --- client configuration --------------------------------------------------------------

  defp daemons!(config) do
    case {Keyword.fetch(config, :daemons), Keyword.fetch(config, :daemon)} do
      {{:ok, _}, {:ok, _}} ->
        raise ArgumentError,
              "config :durable_stash has both :daemons and :daemon; keep only " <>
                ~s{daemons: ["host:port", ...] (or daemons: :embedded)}

      {:error, {:ok, daemon}} ->
        daemon_list!(if daemon == :embedded, do: :embedded, else: [daemon])

      {{:ok, daemons}, :error} ->
        daemon_list!(daemons)

      {:error, :error} ->
        daemon_list!(@default_daemons)
    end
  end

  defp daemon_list!(:embedded), do: :embedded

  defp daemon_list!([_ | _] = addresses) do
    daemons = Enum.map(addresses, &address!/1)

    case addresses -- Enum.uniq(addresses) do
      [] -> daemons
      [dup | _] -> raise ArgumentError, "the daemon #{inspect(dup)} is listed twice in :daemons"
    end
  end

  defp daemon_list!(other) do
    raise ArgumentError,
          ~s{:daemons must be a non-empty list of "host:port" strings, e.g. } <>
            ~s{["10.0.0.5:7379", "10.0.0.6:7379"], or :embedded; got: #{inspect(other)}}
  end

  defp address!(address) when is_binary(address) do
    with [host, port] <- split_address(address),
         {port, ""} when port in 1..65_535 <- Integer.parse(port) do
      {address, String.to_charlist(host), port}
    else
      _ -> bad_address!(address)
    end
  end

  defp address!(other), do: bad_address!(other)

  # "[::1]:7379" for IPv6, "host:7379" otherwise.
  defp split_address("[" <> rest) do
    case String.split(rest, "]:") do
      [host, port] when host != "" -> [host, port]
      _ -> :error
    end
  end

  defp split_address(address) do
    case String.split(address, ":") do
      [host, port] when host != "" -> [host, port]
      _ -> :error
    end
  end

  defp bad_address!(other) do
    raise ArgumentError,
          ~s{each daemon must be a "host:port" string such as "127.0.0.1:7379" } <>
            ~s{(IPv6: "[::1]:7379"), got: #{inspect(other)}}
  end

  defp auth_token!(nil), do: nil
  defp auth_token!(token) when is_binary(token) and token != "", do: token

  defp auth_token!(_other) do
    raise ArgumentError,
          "the auth_token in config :durable_stash must be a non-empty string, the token in " <>
            ~s{the daemon's --auth-token-file, e.g. auth_token: System.fetch_env!("DURABLE_STASH_AUTH_TOKEN")}
  end

  defp positive!(value, _key, _example) when is_integer(value) and value > 0, do: value

  defp positive!(value, key, example) do
    raise ArgumentError,
          "#{inspect(key)} in config :durable_stash must be a positive integer (e.g. " <>
            "#{example}), got: #{inspect(value)}"
  end

  defp daemon_path!(nil), do: nil
  defp daemon_path!(path) when is_binary(path) and path != "", do: path

  defp daemon_path!(other) do
    raise ArgumentError,
          "daemon_path in config :durable_stash must be the path of the durable-stashd " <>
            "executable (leave it out to look it up in PATH), got: #{inspect(other)}"
  end

  defp data_dir!(:memory), do: :memory
  defp data_dir!(dir) when is_binary(dir) and dir != "", do: dir

  defp data_dir!(other) do
    raise ArgumentError,
          ~s{data_dir in config :durable_stash must be a directory such as "tmp/durable_stash" } <>
            "(the embedded daemon's file store) or :memory (nothing kept on disk, for tests), " <>
            "got: #{inspect(other)}"
  end

  # --- shared ------------------------------------------------------------------------------

  defp keyword!(opts, what) do
    if Keyword.keyword?(opts) do
      opts
    else
      raise ArgumentError, "#{what} must be a keyword list, got: #{inspect(opts)}"
    end
  end

  defp unknown!(opts, known, no_such, noun) do
    case Enum.reject(Keyword.keys(opts), &(&1 in known)) do
      [] ->
        :ok

      [key | _] ->
        raise ArgumentError,
              "#{no_such} #{inspect(key)}#{suggestion(key, known)}. " <>
                "The #{noun} are: #{Enum.map_join(known, ", ", &inspect/1)}"
    end
  end

  defp suggestion(key, known) do
    {best, distance} =
      known
      |> Enum.map(&{&1, String.jaro_distance(to_string(key), to_string(&1))})
      |> Enum.max_by(&elem(&1, 1))

    if distance >= 0.8, do: " (did you mean #{inspect(best)}?)", else: ""
  end
end
