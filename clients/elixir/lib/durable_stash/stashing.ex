defmodule DurableStash.Stashing do
  @moduledoc """
  `stash/1` and `reset_stash/1`: writing a view's state.

  A stash sends only the stored keys whose assigns changed (`DurableStash.Changes`) since
  the baseline: the last acknowledged stash, or `recover_state/1`, which takes the assigns
  after recovery as the baseline. With nothing changed it does no I/O. Keys that are not
  assigned are skipped. Values go as Erlang terms and the daemon normalizes them to JSON (see
  "What can be stored" in `DurableStash`).

  Failures never crash the LiveView, with one deliberate exception:

    * a value the daemon refuses (`BADVALUE`: a tuple, a pid, a struct other than the
      calendar types, ...) raises an `ArgumentError` naming the key under
      `on_invalid_value: :raise` (the default), because it is a bug to fix, not a condition
      to handle. Nothing of that stash is stored. Under `on_invalid_value: :log` the refused
      keys are logged and skipped, and the other changed keys are stored;
    * anything else (daemon down or slow, a size limit) is logged, and the socket is
      returned; the keys count as unsent and go with the next stash.
  """

  require Logger

  alias DurableStash.{Changes, Client, Commands, Context, Error, LiveSocket}

  @doc "Stashes the changed stored keys of `socket` (see the module documentation)."
  @spec stash(LiveSocket.socket()) :: LiveSocket.socket()
  def stash(socket) do
    context = Context.fetch!(socket)

    case changed(socket, context) do
      _ when context.session_key == nil -> socket
      [] -> socket
      pairs -> send_stash(socket, context, pairs)
    end
  end

  @doc """
  Removes the view's stored state (the whole slice), and forgets what was stored, so the
  next stash sends every key.
  """
  @spec reset(LiveSocket.socket()) :: LiveSocket.socket()
  def reset(socket) do
    context = Context.fetch!(socket)

    if context.session_key != nil do
      with {:error, %Error{message: message}} <-
             Client.command(context.session_key, Commands.reset(context)) do
        Logger.error("DurableStash: could not reset the state of #{context.view}: #{message}")
      end
    end

    Context.put(socket, %{context | known: Changes.new()})
  end

  defp changed(socket, context) do
    assigns = LiveSocket.assigns(socket)

    candidates =
      for {key, _name, _scope} <- context.keys,
          Map.has_key?(assigns, key),
          do: {key, Map.fetch!(assigns, key)}

    Changes.changed(context.known, candidates)
  end

  defp send_stash(socket, context, pairs) do
    case Client.command(context.session_key, Commands.stash(context, pairs)) do
      {:ok, "OK"} ->
        acknowledged(socket, context, pairs)

      {:error, %Error{kind: "BADVALUE"} = error} ->
        invalid_value(socket, context, pairs, error)

      {:error, %Error{message: message}} ->
        Logger.error("DurableStash: could not stash the state of #{context.view}: #{message}")
        socket
    end
  end

  defp acknowledged(socket, context, pairs) do
    Context.put(socket, %{context | known: Changes.remember(context.known, pairs)})
  end

  defp invalid_value(_socket, %Context{on_invalid_value: :raise} = context, _pairs, error) do
    raise ArgumentError,
          "DurableStash cannot store the state of #{context.view}: #{error.message}. " <>
            "Stored values must be JSON-like (maps, lists, strings, numbers, booleans, nil, " <>
            "atoms, dates and times): convert the value first, or pass " <>
            "`on_invalid_value: :log` to skip such keys"
  end

  # Which keys were refused? Each changed key in its own DS.STASH, pipelined in one round
  # trip: the good ones are stored, and each refusal names exactly one key. This costs a
  # second round trip only when a value was refused.
  defp invalid_value(socket, context, pairs, _error) do
    commands = Enum.map(pairs, &Commands.stash(context, [&1]))

    case Client.pipeline(context.session_key, commands) do
      {:ok, replies} ->
        stored =
          for {{key, _value} = pair, reply} <- Enum.zip(pairs, replies), reduce: [] do
            stored ->
              case reply do
                "OK" ->
                  [pair | stored]

                %Error{message: message} ->
                  Logger.error(
                    "DurableStash: not stashing #{inspect(key)} of #{context.view}: #{message}"
                  )

                  stored
              end
          end

        acknowledged(socket, context, stored)

      {:error, %Error{message: message}} ->
        Logger.error("DurableStash: could not stash the state of #{context.view}: #{message}")
        socket
    end
  end
end
