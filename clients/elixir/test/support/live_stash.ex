defmodule LiveStash do
  @moduledoc """
  Test stand-in for LiveStash: `use LiveStash, opts` registers `on_mount({LiveStash, opts})`,
  and `on_mount/4` → `init_stash/3` pops `:adapter`, checks `:stored_keys` is given and the
  adapter is enabled in `config :live_stash, adapters: [...]`, stores the adapter in
  `socket.private.live_stash_adapter` and calls `adapter.init_stash(socket, session, opts)`
  with every other option (`:auto_stash` included, as the real one does). `stash/1`,
  `recover_state/1` and `reset_stash/1` call the stored adapter.
  """

  defmacro __using__(opts) do
    quote do
      on_mount({LiveStash, unquote(opts)})
    end
  end

  def on_mount(opts, _params, session, socket), do: {:cont, init_stash(socket, session, opts)}

  def init_stash(socket, session, opts) do
    {adapter, opts} = Keyword.pop(opts, :adapter)

    if not Keyword.has_key?(opts, :stored_keys) do
      raise ArgumentError, "stored_keys option is required"
    end

    if adapter not in Application.get_env(:live_stash, :adapters, []) do
      raise ArgumentError,
            "The adapter #{inspect(adapter)} is not active. Please add it to the :adapters " <>
              "list in your :live_stash config."
    end

    socket
    |> Phoenix.LiveView.put_private(:live_stash_adapter, adapter)
    |> adapter.init_stash(session, opts)
  end

  def stash(socket), do: adapter(socket).stash(socket)
  def recover_state(socket), do: adapter(socket).recover_state(socket)
  def reset_stash(socket), do: adapter(socket).reset_stash(socket)

  defp adapter(%{private: %{live_stash_adapter: adapter}}), do: adapter
end
