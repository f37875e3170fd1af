defmodule DurableStash.Recovery do
  @moduledoc """
  `recover_state/1`: reads the view's stored keys for this mount and assigns them.

  The daemon applies the scope rules (SPEC §3): `:session` keys on every mount, `:reconnect`
  keys only on a rejoin, and a fresh connected mount clears the stored `:reconnect` keys.
  Its answer maps to a status:

    * `recovered` — the values are assigned: `{:recovered, socket}`;
    * `not_found` — nothing stored is in scope: `{:not_found, socket}`;
    * `vsn_mismatch` — the stored slice has another `:vsn`. With `:migrate`, the stored data
      goes through it, the complete migrated key set is written back under the current vsn
      (`:reconnect` keys are left out on a fresh mount, which clears them), and the keys in
      scope are assigned. Without `:migrate`, the slice is discarded (the view starts from
      its defaults) and the status is `:not_found`;
    * the daemon down, slow or answering an error, undecodable data, or a migration that
      raises or cannot be stored — logged, and `{:error, socket}` with the assigns
      untouched. Never a crash.

  A mount with nothing to ask for (no keys, or a dead render of a view that has only
  `:reconnect` keys) does no I/O, and neither does a session without a sid.

  Whatever the outcome, the assigns after recovery become the baseline of the next stash
  (see `DurableStash.Changes`): recovered values are what is stored, and defaults that were
  never stored are not sent until they change. So a tab that only looked never overwrites
  keys that another tab wrote, even when its recover failed.
  """

  require Logger

  alias DurableStash.{Changes, Client, Commands, Context, Error, LiveSocket}

  @typedoc "The status returned to LiveStash (`:new` is never used by this adapter)."
  @type status :: :recovered | :not_found | :error

  @doc "Recovers the view's state into `socket` (see the module documentation)."
  @spec recover(LiveSocket.socket()) :: {status(), LiveSocket.socket()}
  def recover(socket) do
    context = Context.fetch!(socket)

    {status, socket} =
      if context.session_key == nil or nothing_to_ask?(context) do
        {:not_found, socket}
      else
        case ask(socket, context) do
          {:error, reason} ->
            Logger.error(
              "DurableStash: could not recover the state of #{context.view}: #{reason}"
            )

            {:error, socket}

          {status, socket} ->
            {status, socket}
        end
      end

    {status, baseline(socket, context)}
  end

  defp nothing_to_ask?(%Context{keys: keys, mount: :dead}),
    do: Enum.all?(keys, &match?({_, _, :reconnect}, &1))

  defp nothing_to_ask?(%Context{keys: keys}), do: keys == []

  defp ask(socket, context) do
    case Client.command(context.session_key, Commands.recover(context)) do
      {:ok, ["recovered", _vsn | pairs]} -> recovered(socket, context, decode(pairs))
      {:ok, ["not_found", _vsn]} -> {:not_found, socket}
      {:ok, ["vsn_mismatch", stored_vsn | pairs]} -> mismatch(socket, context, stored_vsn, pairs)
      {:ok, other} -> {:error, "unexpected reply #{inspect(other, limit: 5)}"}
      {:error, %Error{message: message}} -> {:error, message}
    end
  rescue
    # Stored bytes that are not a term the daemon sends, or a migration that raised.
    error -> {:error, Exception.message(error)}
  end

  defp recovered(socket, context, data) do
    case for({name, value} <- data, key = context.names[name], key != nil, do: {key, value}) do
      [] -> {:not_found, socket}
      values -> {:recovered, LiveSocket.assign(socket, values)}
    end
  end

  defp baseline(socket, context) do
    assigns = LiveSocket.assigns(socket)

    known =
      for {key, _name, _scope} <- context.keys,
          Map.has_key?(assigns, key),
          do: {key, Map.fetch!(assigns, key)}

    Context.put(socket, %{context | known: Changes.remember(Changes.new(), known)})
  end

  # --- a stored slice of another vsn ---------------------------------------------------

  defp mismatch(socket, %Context{migrate: nil} = context, stored_vsn, _pairs) do
    case Client.command(context.session_key, Commands.reset(context)) do
      {:ok, _removed} ->
        Logger.info(
          "DurableStash: discarded the stored state of #{context.view} (vsn #{stored_vsn}; " <>
            "the view is at vsn #{context.vsn} and has no :migrate)"
        )

        {:not_found, socket}

      {:error, %Error{message: message}} ->
        {:error, "the stored vsn #{stored_vsn} is outdated and discarding it failed: #{message}"}
    end
  end

  defp mismatch(socket, context, stored_vsn, pairs) do
    case run_migrate(context.migrate, stored_vsn, Map.new(decode(pairs))) do
      migrated when is_map(migrated) ->
        store_migrated(socket, context, stored_vsn, migrated)

      other ->
        {:error,
         "the :migrate function returned #{inspect(other, limit: 3)} for vsn #{stored_vsn}; " <>
           "it must return a map of the data for vsn #{context.vsn}"}
    end
  end

  defp run_migrate({module, function}, vsn, data), do: apply(module, function, [vsn, data])
  defp run_migrate(fun, vsn, data), do: fun.(vsn, data)

  defp store_migrated(socket, context, stored_vsn, migrated) do
    scopes = Map.new(context.keys, fn {key, _name, scope} -> {key, scope} end)

    # The migrated keys that this view stores (atom or string keys), with their scopes.
    values =
      for {key, value} <- migrated,
          key = context.names[key_name(key)],
          key != nil,
          do: {key, scopes[key], value}

    assigned =
      for {key, scope, value} <- values, in_scope?(scope, context.mount), do: {key, value}

    kept =
      for {key, scope, value} <- values,
          scope == :session or context.mount != :fresh,
          do: {key, value}

    command = if kept == [], do: Commands.reset(context), else: Commands.stash(context, kept)

    case Client.command(context.session_key, command) do
      {:ok, _} when assigned == [] ->
        {:not_found, socket}

      {:ok, _} ->
        {:recovered, LiveSocket.assign(socket, assigned)}

      {:error, %Error{message: message}} ->
        {:error,
         "migrated the state from vsn #{stored_vsn} to #{context.vsn} but could not store " <>
           "it: #{message}"}
    end
  end

  defp key_name(key) when is_atom(key), do: Atom.to_string(key)
  defp key_name(key) when is_binary(key), do: key
  defp key_name(_key), do: nil

  defp in_scope?(:session, _mount), do: true
  defp in_scope?(:reconnect, mount), do: mount == :rejoin

  defp decode(pairs) do
    pairs
    |> Enum.chunk_every(2)
    |> Enum.map(fn [name, value] -> {name, Commands.decode(value)} end)
  end
end
