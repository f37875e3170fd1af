defmodule Plug.Conn do
  @moduledoc """
  Test stand-in for the two `Plug.Conn` functions DurableStash calls: `get_session/2` and
  `put_session/3`, reading and writing the fetched cookie session.
  """

  defstruct private: %{}

  @doc "Reads a session value; raises when the session was not fetched."
  def get_session(%__MODULE__{} = conn, key) when is_binary(key) or is_atom(key) do
    conn |> session!() |> Map.get(to_string(key))
  end

  @doc "Writes a session value, marking the session to be written to the cookie."
  def put_session(%__MODULE__{private: private} = conn, key, value)
      when is_binary(key) or is_atom(key) do
    session = Map.put(session!(conn), to_string(key), value)

    %{
      conn
      | private: private |> Map.put(:plug_session, session) |> Map.put(:plug_session_info, :write)
    }
  end

  defp session!(%__MODULE__{private: private}) do
    Map.get(private, :plug_session) ||
      raise ArgumentError, "session not fetched, call fetch_session/2"
  end
end
