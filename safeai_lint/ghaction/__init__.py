"""The GitHub Action's scan step, in Python: build the command line from the action's inputs,
scan once to SARIF, then print annotations and write the job summary from that file."""
